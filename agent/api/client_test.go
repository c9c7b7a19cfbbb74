package api

import (
	"context"
	"errors"
	json "github.com/vpnpass/vpnpass/internal/jsonx"
	"net"
	"os"
	"testing"
	"time"
)

func TestDialNoDaemon(t *testing.T) {
	path := sockPath(t)
	if _, err := Dial(path); !errors.Is(err, ErrNoDaemon) {
		t.Fatalf("missing socket: %v", err)
	}
	// A stale socket: bound, then closed without unlinking.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if _, err := Dial(path); !errors.Is(err, ErrNoDaemon) {
		t.Fatalf("stale socket: %v", err)
	}
}

func TestClientCall(t *testing.T) {
	_, path := newTestServer(t, nil)
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	var res struct {
		Changed bool `json:"changed"`
	}
	if err := c.Call(ctx, "set", map[string]string{"protocol": "pptp", "mode": "allow"}, &res); err != nil || !res.Changed {
		t.Fatalf("set: %v %+v", err, res)
	}
	var apiErr *Error
	err = c.Call(ctx, "set", map[string]string{"protocol": "gre"}, &res)
	if !errors.As(err, &apiErr) || apiErr.Code != CodeBadParams || !errors.Is(err, &Error{Code: CodeBadParams}) {
		t.Fatalf("want bad_params, got %v", err)
	}
	if err := c.Call(ctx, "nope", nil, nil); !errors.Is(err, &Error{Code: CodeUnknownMethod}) {
		t.Fatalf("want unknown_method, got %v", err)
	}
	// Params that cannot be encoded fail locally; the connection stays usable.
	if err := c.Call(ctx, "echo", make(chan int), nil); err == nil {
		t.Fatal("want an encoding error")
	}
	if err := c.Call(ctx, "nil", nil, nil); err != nil {
		t.Fatal(err)
	}
}

func TestClientRedialsAfterIdleClose(t *testing.T) {
	_, path := newTestServer(t, func(s *Server) { s.IdleTimeout = 20 * time.Millisecond })
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.RedialAfter = 10 * time.Millisecond
	for i := 0; i < 3; i++ {
		if err := c.Call(context.Background(), "nil", nil, nil); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		time.Sleep(40 * time.Millisecond) // let the server close the idle connection
	}
}

func TestClientContextCancel(t *testing.T) {
	block := make(chan struct{})
	_, path := newTestServer(t, func(s *Server) {
		s.Handle("slow", func(ctx context.Context, _ json.RawMessage) (any, error) {
			select {
			case <-block:
			case <-ctx.Done():
			}
			return nil, nil
		})
	})
	defer close(block)
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if err := c.Call(ctx, "slow", nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

func TestListenUnix(t *testing.T) {
	path := sockPath(t)
	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v mode %v", err, st.Mode())
	}
	// A live socket is not taken over.
	if _, err := ListenUnix(path); !errors.Is(err, ErrInUse) {
		t.Fatalf("want ErrInUse, got %v", err)
	}
	ln.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("Close must remove the socket")
	}
	// A stale socket is replaced.
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close()
	ln, err = ListenUnix(path)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	ln.Close()
	// A regular file is never removed.
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ListenUnix(path); err == nil {
		t.Fatal("want an error for a regular file")
	}
	if b, _ := os.ReadFile(path); string(b) != "x" {
		t.Fatal("regular file touched")
	}
}

func TestOneOf(t *testing.T) {
	if err := OneOf("protocol", "l2tp", "pptp", "l2tp", "ipsec"); err != nil {
		t.Fatal(err)
	}
	err := OneOf("protocol", "gre", "pptp", "l2tp", "ipsec")
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeBadParams || e.Message != "protocol must be one of pptp, l2tp, ipsec" {
		t.Fatalf("got %v", err)
	}
}
