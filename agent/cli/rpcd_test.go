package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/logx"
	json "github.com/vpnpass/vpnpass/internal/jsonx"

	"github.com/vpnpass/vpnpass/agent/api"
)

const testSID = "c1ed6c7b025d0caca723a816fa61b668"

// TestSplitSession: the session key uhttpd adds is taken out and its value
// kept; everything else is left for the daemon's strict decoder.
func TestSplitSession(t *testing.T) {
	tests := []struct {
		in, params, sid string
		session         bool
		err             string
	}{
		{in: `{"protocol":"ipsec","mode":"allow","ubus_rpc_session":"` + testSID + `"}`,
			params: `{"mode":"allow","protocol":"ipsec"}`, session: true, sid: testSID},
		{in: `{"ubus_rpc_session":"` + testSID + `"}`, params: `{}`, session: true, sid: testSID},
		{in: `{"ubus_rpc_session":"` + testSID + `","bogus":1}`, params: `{"bogus":1}`, session: true, sid: testSID},
		{in: `{"ubus_rpc_session":7}`, params: `{}`, session: true},
		{in: `{"protocol":"ipsec"}`, params: `{"protocol":"ipsec"}`},
		{in: " \n", params: `{}`},
		{in: `[1]`, err: "one JSON object"},
		{in: `null`, err: "one JSON object"},
		{in: `{"a":`, err: "one JSON object"},
		{in: `{"a":"` + strings.Repeat("x", rpcdMaxInput) + `"}`, err: "over 64 KiB"},
	}
	for _, tc := range tests {
		got, err := readParams(context.Background(), strings.NewReader(tc.in))
		name := tc.in[:min(len(tc.in), 60)]
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", name, err, tc.err)
			}
			continue
		}
		if err != nil || string(got.params) != tc.params || got.session != tc.session || got.sid != tc.sid {
			t.Errorf("%s: got %s session=%v sid=%q err=%v, want %s session=%v sid=%q",
				name, got.params, got.session, got.sid, err, tc.params, tc.session, tc.sid)
		}
	}
}

// whoServer is a daemon stand-in whose set and status answer the caller
// they were given; set decodes its params strictly, as the daemon does.
func whoServer(t *testing.T, delay time.Duration) string {
	t.Helper()
	s := api.NewServer()
	s.Logger = logx.Discard()
	who := func(ctx context.Context, raw json.RawMessage) (any, error) {
		var p struct{ Protocol, Mode string }
		if err := api.DecodeParams(raw, &p); err != nil {
			return nil, err
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
		}
		return api.CallerFrom(ctx), nil
	}
	s.Handle("set", who)
	s.Handle("status", who)
	path := filepath.Join(t.TempDir(), "s")
	ln, err := api.ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return path
}

// fakeUbus installs a stand-in for the ubus CLI that answers session get
// for testSID (and only with exactly the arguments rpcd expects) with the
// given body, and records that it ran.
func fakeUbus(t *testing.T, body string) (ran func() bool) {
	t.Helper()
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	want := `-t 2 call session get {"keys":["username"],"ubus_rpc_session":"` + testSID + `"}`
	script := "#!/bin/sh\n: > " + marker + "\n[ \"$*\" = '" + want + "' ] || exit 4\n" + body + "\n"
	p := filepath.Join(dir, "ubus")
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	old := ubusCommand
	ubusCommand = p
	t.Cleanup(func() { ubusCommand = old })
	return func() bool { _, err := os.Stat(marker); return err == nil }
}

func runPlugin(t *testing.T, sock, method string, stdin io.Reader) (map[string]any, time.Duration) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Stdin: stdin, Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	start := time.Now()
	code := Main(context.Background(), []string{"rpcd", "call", method, "--socket", sock}, env)
	took := time.Since(start)
	var v map[string]any
	if code != ExitOK || json.Unmarshal(out.Bytes(), &v) != nil {
		t.Fatalf("rpcd call %s: exit %d, stdout %q, stderr %q", method, code, out.String(), errb.String())
	}
	return v, took
}

// TestRPCDCaller: the plugin tells the daemon who calls: ubus without a
// session key, rpcd with one, and for set the login rpcd's session object
// names; a failed or hung lookup leaves rpcd without a user, in time.
func TestRPCDCaller(t *testing.T) {
	sock := whoServer(t, 0)
	withSID := `{"protocol":"ipsec","mode":"allow","ubus_rpc_session":"` + testSID + `"}`
	tests := []struct {
		name, method, stdin, ubus string
		want                      map[string]any
		lookup                    bool
		within                    time.Duration
	}{
		{"shell ubus call", "set", `{"protocol":"ipsec","mode":"allow"}`, `exit 0`,
			map[string]any{"origin": "ubus"}, false, time.Second},
		{"through /ubus", "set", withSID, `echo '{"values":{"username":"isp"}}'`,
			map[string]any{"origin": "rpcd", "user": "isp"}, true, time.Second},
		{"no lookup for reads", "status", `{"ubus_rpc_session":"` + testSID + `"}`, `echo '{"values":{"username":"isp"}}'`,
			map[string]any{"origin": "rpcd"}, false, time.Second},
		{"session without login", "set", withSID, `echo '{"values":{}}'`, map[string]any{"origin": "rpcd"}, true, time.Second},
		{"expired session", "set", withSID, `echo 'Command failed: Not found' >&2; exit 4`, map[string]any{"origin": "rpcd"}, true, time.Second},
		{"unprintable name", "set", withSID, `printf '{"values":{"username":"a\\u0007b"}}'`, map[string]any{"origin": "rpcd"}, true, time.Second},
		{"hung lookup", "set", withSID, `exec sleep 30`, map[string]any{"origin": "rpcd"}, true, 3 * time.Second},
		{"malformed session id", "set", `{"protocol":"ipsec","mode":"allow","ubus_rpc_session":"../x"}`, `echo '{"values":{"username":"isp"}}'`,
			map[string]any{"origin": "rpcd"}, false, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ran := fakeUbus(t, tc.ubus)
			got, took := runPlugin(t, sock, tc.method, strings.NewReader(tc.stdin))
			if !equalJSON(got, tc.want) {
				t.Errorf("caller %v, want %v", got, tc.want)
			}
			if ran() != tc.lookup {
				t.Errorf("ubus session lookup ran: %v, want %v", ran(), tc.lookup)
			}
			if took > tc.within {
				t.Errorf("took %v, want within %v", took, tc.within)
			}
			t.Logf("%s: %v", tc.name, took)
		})
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestRPCDAnswersInTime: whatever the agent does, `rpcd call` prints a
// result or an error object within 10 s (LuCI gives up at 20 s, rpcd
// kills the plugin at 30 s): a hung agent (the socket accepts, nobody
// answers), a stopped one, a slow one, and stdin that never ends.
func TestRPCDAnswersInTime(t *testing.T) {
	dir := t.TempDir()
	hung := filepath.Join(dir, "hung")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: hung, Net: "unix"}) // never accepts: the kernel does
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	slow := whoServer(t, 5*time.Second)
	never, _ := io.Pipe()
	tests := []struct {
		name, sock string
		stdin      io.Reader
		code       string // "" wants a result
		msg        string // in the error's message
		min, max   time.Duration
	}{
		{"stopped", filepath.Join(dir, "none"), strings.NewReader(`{}`), "not_available", "not running", 0, time.Second},
		{"hung", hung, strings.NewReader(`{}`), "failed", "did not answer status within 9 s", rpcdBudget - time.Second, 10 * time.Second},
		{"slow (5 s)", slow, strings.NewReader(`{}`), "", "", 5 * time.Second, 10 * time.Second},
		{"stdin never closed", slow, never, "bad_request", "did not end", rpcdBudget - time.Second, 10 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, took := runPlugin(t, tc.sock, "status", tc.stdin)
			t.Logf("%s: answered in %v: %v", tc.name, took.Round(time.Millisecond), got)
			eo, _ := got["error"].(map[string]any)
			switch {
			case tc.code == "" && eo != nil:
				t.Errorf("want a result, got %v", got)
			case tc.code != "" && (eo == nil || eo["code"] != tc.code || !strings.Contains(eo["message"].(string), tc.msg)):
				t.Errorf("want error %s, got %v", tc.code, got)
			}
			if took < tc.min || took > tc.max {
				t.Errorf("answered in %v, want %v..%v", took, tc.min, tc.max)
			}
		})
	}
}
