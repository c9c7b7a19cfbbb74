package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/vpnpass/vpnpass/agent/logx"
	json "github.com/vpnpass/vpnpass/internal/jsonx"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// sockPath returns a short socket path (sun_path is limited to 108 bytes).
func sockPath(t *testing.T) string {
	dir, err := os.MkdirTemp("", "api")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s")
}

type setParams struct {
	Protocol string `json:"protocol"`
	Mode     string `json:"mode"`
	DryRun   bool   `json:"dry_run"`
	Port     uint16 `json:"dport"`
}

// newTestServer serves a few methods that exercise every outcome.
func newTestServer(t *testing.T, configure func(*Server)) (*Server, string) {
	t.Helper()
	s := NewServer()
	s.Logger = logx.Discard()
	s.Handle("echo", func(_ context.Context, p json.RawMessage) (any, error) {
		var v map[string]any
		if err := DecodeParams(p, &v); err != nil {
			return nil, err
		}
		return map[string]any{"params": v}, nil
	})
	s.Handle("set", func(_ context.Context, p json.RawMessage) (any, error) {
		var sp setParams
		if err := DecodeParams(p, &sp); err != nil {
			return nil, err
		}
		if sp.Protocol != "pptp" && sp.Protocol != "l2tp" && sp.Protocol != "ipsec" {
			return nil, BadParams("protocol must be one of pptp, l2tp, ipsec")
		}
		return map[string]any{"changed": true}, nil
	})
	s.Handle("nat", func(context.Context, json.RawMessage) (any, error) {
		return nil, NotAvailable("STUN is not configured")
	})
	s.Handle("fail", func(context.Context, json.RawMessage) (any, error) {
		return nil, fmt.Errorf("apply: %w", errors.New("netlink: operation not permitted"))
	})
	s.Handle("panic", func(context.Context, json.RawMessage) (any, error) { panic("boom") })
	s.Handle("nil", func(context.Context, json.RawMessage) (any, error) { return nil, nil })
	s.Handle("unencodable", func(context.Context, json.RawMessage) (any, error) { return make(chan int), nil })
	if configure != nil {
		configure(s)
	}
	path := sockPath(t)
	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return s, path
}

type rawConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, path string) *rawConn {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t, c, bufio.NewReader(c)}
}

func (rc *rawConn) send(line string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.c, line); err != nil {
		rc.t.Fatal(err)
	}
}

// recv reads one line; "" with the error when the server closed.
func (rc *rawConn) recv() (string, error) {
	rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	s, err := rc.r.ReadString('\n')
	return strings.TrimSuffix(s, "\n"), err
}

func (rc *rawConn) roundTrip(line string) string {
	rc.t.Helper()
	rc.send(line + "\n")
	got, err := rc.recv()
	if err != nil {
		rc.t.Fatalf("no response to %q: %v", line, err)
	}
	return got
}

// TestProtocol runs every request shape over one connection: each response
// must match exactly, and the connection must stay usable afterwards.
func TestProtocol(t *testing.T) {
	_, path := newTestServer(t, nil)
	rc := dialRaw(t, path)
	tests := []struct{ name, req, want string }{
		{"numeric id", `{"id":7,"method":"set","params":{"protocol":"pptp","mode":"allow"}}`, `{"id":7,"result":{"changed":true}}`},
		{"string id", `{"id":"a b","method":"nil"}`, `{"id":"a b","result":{}}`},
		{"object id compacted", `{"id": {"x": [1, 2]}, "method":"nil"}`, `{"id":{"x":[1,2]},"result":{}}`},
		{"null id", `{"id":null,"method":"nil"}`, `{"id":null,"result":{}}`},
		{"no id", `{"method":"nil"}`, `{"result":{}}`},
		{"null params", `{"id":1,"method":"echo","params":null}`, `{"id":1,"result":{"params":null}}`},
		{"not json", `{"id":1,"method":`, `{"error":{"code":"bad_request","message":"not JSON: unexpected end of JSON input"}}`},
		{"garbage", `hello`, `{"error":{"code":"bad_request","message":"not JSON: invalid character 'h' looking for beginning of value"}}`},
		{"array", `[1,2]`, `{"error":{"code":"bad_request","message":"a request is a JSON object: {\"id\": 1, \"method\": \"status\"}"}}`},
		{"json null", `null`, `{"error":{"code":"bad_request","message":"a request is a JSON object, not null"}}`},
		{"two objects", `{"method":"nil"} {"method":"nil"}`, `{"error":{"code":"bad_request","message":"not JSON: invalid character '{' after top-level value"}}`},
		{"unknown field", `{"id":2,"method":"nil","param":{}}`, `{"id":2,"error":{"code":"bad_request","message":"unknown request field \"param\" (fields: id, method, params, caller)"}}`},
		{"no method", `{"id":3}`, `{"id":3,"error":{"code":"bad_request","message":"the request has no method"}}`},
		{"method not string", `{"id":3,"method":5}`, `{"id":3,"error":{"code":"bad_request","message":"method must be a non-empty string"}}`},
		{"params not object", `{"id":4,"method":"set","params":[1]}`, `{"id":4,"error":{"code":"bad_params","message":"params must be an object"}}`},
		{"unknown method", `{"id":5,"method":"frobnicate"}`, `{"id":5,"error":{"code":"unknown_method","message":"unknown method \"frobnicate\"; methods: echo, fail, nat, nil, panic, set, unencodable"}}`},
		{"bad params value", `{"id":6,"method":"set","params":{"protocol":"gre"}}`, `{"id":6,"error":{"code":"bad_params","message":"protocol must be one of pptp, l2tp, ipsec"}}`},
		{"bad params type", `{"id":6,"method":"set","params":{"protocol":1}}`, `{"id":6,"error":{"code":"bad_params","message":"protocol must be a string, not number"}}`},
		{"bad params bool", `{"id":6,"method":"set","params":{"protocol":"pptp","dry_run":"yes"}}`, `{"id":6,"error":{"code":"bad_params","message":"dry_run must be true or false, not string"}}`},
		{"bad params range", `{"id":6,"method":"set","params":{"protocol":"pptp","dport":70000}}`, `{"id":6,"error":{"code":"bad_params","message":"dport must be an integer from 0 to 65535, not number 70000"}}`},
		{"unknown param", `{"id":6,"method":"set","params":{"protocol":"pptp","moda":"allow"}}`, `{"id":6,"error":{"code":"bad_params","message":"unknown parameter \"moda\""}}`},
		{"not available", `{"id":8,"method":"nat"}`, `{"id":8,"error":{"code":"not_available","message":"STUN is not configured"}}`},
		{"failed", `{"id":9,"method":"fail"}`, `{"id":9,"error":{"code":"failed","message":"apply: netlink: operation not permitted"}}`},
		{"panic", `{"id":10,"method":"panic"}`, `{"id":10,"error":{"code":"failed","message":"internal error in panic: boom"}}`},
		{"unencodable", `{"id":11,"method":"unencodable"}`, `{"id":11,"error":{"code":"failed","message":"cannot encode the result: json: unsupported type: chan int"}}`},
		{"after all that", `{"id":12,"method":"set","params":{"protocol":"ipsec"}}`, `{"id":12,"result":{"changed":true}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rc.roundTrip(tt.req); got != tt.want {
				t.Fatalf("\ngot  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	_, path := newTestServer(t, nil)
	rc := dialRaw(t, path)
	var batch strings.Builder
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&batch, "{\"id\":%d,\"method\":\"echo\",\"params\":{\"n\":%d}}\n\n", i, i)
	}
	rc.send(batch.String())
	for i := 0; i < 50; i++ {
		got, err := rc.recv()
		want := fmt.Sprintf(`{"id":%d,"result":{"params":{"n":%d}}}`, i, i)
		if err != nil || got != want {
			t.Fatalf("response %d: %q %v", i, got, err)
		}
	}
}

func TestLastLineWithoutNewline(t *testing.T) {
	_, path := newTestServer(t, nil)
	rc := dialRaw(t, path)
	rc.send(`{"id":1,"method":"nil"}`)
	rc.c.(*net.UnixConn).CloseWrite()
	if got, err := rc.recv(); got != `{"id":1,"result":{}}` {
		t.Fatalf("got %q %v", got, err)
	}
	if _, err := rc.recv(); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
}

func TestLineLimit(t *testing.T) {
	_, path := newTestServer(t, nil)
	// Exactly 64 KiB (padding inside the object) is accepted.
	prefix := `{"id":1,"method":"nil"`
	exact := prefix + strings.Repeat(" ", MaxLine-len(prefix)-1) + "}"
	rc := dialRaw(t, path)
	if got := rc.roundTrip(exact); got != `{"id":1,"result":{}}` {
		t.Fatalf("64 KiB line: %q", got)
	}
	// One byte more is refused, and the connection is closed.
	rc.send(exact + " \n")
	got, err := rc.recv()
	if got != `{"error":{"code":"bad_request","message":"request line over 64 KiB"}}` {
		t.Fatalf("got %q %v", got, err)
	}
	if _, err := rc.recv(); err != io.EOF {
		t.Fatalf("connection not closed: %v", err)
	}
	// A huge line without a newline is cut off without reading it all.
	rc2 := dialRaw(t, path)
	go rc2.c.Write([]byte(strings.Repeat("x", 1<<20)))
	if got, _ := rc2.recv(); !strings.Contains(got, "over 64 KiB") {
		t.Fatalf("got %q", got)
	}
}

func TestIdleConnectionClosed(t *testing.T) {
	_, path := newTestServer(t, func(s *Server) { s.IdleTimeout = 50 * time.Millisecond })
	rc := dialRaw(t, path)
	// A request resets the idle timer; after it, silence closes the connection.
	if got := rc.roundTrip(`{"id":1,"method":"nil"}`); got != `{"id":1,"result":{}}` {
		t.Fatal(got)
	}
	if got, err := rc.recv(); err != io.EOF || got != "" {
		t.Fatalf("want EOF from an idle close, got %q %v", got, err)
	}
	// A partial line is not a request: the idle close drops it unanswered.
	rc2 := dialRaw(t, path)
	rc2.send(`{"id":1,"meth`)
	if got, err := rc2.recv(); err != io.EOF || got != "" {
		t.Fatalf("want EOF, got %q %v", got, err)
	}
}

func TestDefaultIdleTimeoutIsFiveSeconds(t *testing.T) {
	if DefaultIdleTimeout != 5*time.Second || durationOr(NewServer().IdleTimeout, DefaultIdleTimeout) != 5*time.Second {
		t.Fatal("docs/interface.md#local-api: idle connections close after 5 s")
	}
}

func TestConcurrentClients(t *testing.T) {
	_, path := newTestServer(t, func(s *Server) { s.MaxConns = 32 })
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			c, err := Dial(path)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for i := 0; i < 100; i++ {
				var res struct{ Params map[string]int }
				if err := c.Call(context.Background(), "echo", map[string]int{"g": g, "i": i}, &res); err != nil {
					errs <- err
					return
				}
				if res.Params["g"] != g || res.Params["i"] != i {
					errs <- fmt.Errorf("client %d call %d got %v", g, i, res.Params)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestMaxConns: with every slot inside a handler a new connection gets the
// busy line, the Client retries it until its context ends, and is served
// once a slot frees.
func TestMaxConns(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	_, path := newTestServer(t, func(s *Server) {
		s.MaxConns = 1
		s.Handle("block", func(context.Context, json.RawMessage) (any, error) {
			close(started)
			<-release
			return nil, nil
		})
	})
	first := dialRaw(t, path)
	first.send(`{"method":"block"}` + "\n")
	<-started
	got, _ := dialRaw(t, path).recv()
	if got != `{"error":{"code":"failed","message":"`+BusyMessage+`"}}` {
		t.Fatalf("got %q", got)
	}
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var apiErr *Error
	if err := c.Call(ctx, "nil", nil, nil); !errors.As(err, &apiErr) || apiErr.Message != BusyMessage {
		t.Fatalf("got %v", err)
	}
	close(release)
	if _, err := first.recv(); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(context.Background(), "nil", nil, nil); err != nil {
		t.Fatalf("after a slot freed: %v", err)
	}
}

// TestSilentConnectionEvicted: a full server gives the slot of a
// connection that sent nothing for evictAfter to a new one.
func TestSilentConnectionEvicted(t *testing.T) {
	_, path := newTestServer(t, func(s *Server) { s.MaxConns = 1 })
	silent := dialRaw(t, path)
	time.Sleep(2 * evictAfter)
	if got := dialRaw(t, path).roundTrip(`{"method":"nil"}`); got != `{"result":{}}` {
		t.Fatalf("got %q", got)
	}
	if got, err := silent.recv(); err == nil {
		t.Fatalf("the silent connection still open: %q", got)
	}
}
