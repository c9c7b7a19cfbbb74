package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/test/lab"
)

// rawConn speaks the API's line protocol by hand, so a test can send what
// no well-behaved client would.
type rawConn struct {
	c net.Conn
	r *bufio.Reader
}

type rawResponse struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *api.Error      `json:"error"`
}

func dialRaw(t *testing.T, socket string) *rawConn {
	t.Helper()
	c, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{c: c, r: bufio.NewReader(c)}
}

// send writes one line and reads one response line.
func (rc *rawConn) send(t *testing.T, line string) rawResponse {
	t.Helper()
	rc.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(rc.c, line+"\n"); err != nil {
		t.Fatalf("write %.60q: %v", line, err)
	}
	return rc.read(t)
}

func (rc *rawConn) read(t *testing.T) rawResponse {
	t.Helper()
	b, err := rc.r.ReadBytes('\n')
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	var r rawResponse
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("response is not JSON: %v: %q", err, b)
	}
	return r
}

// closedByServer waits up to limit for the server to close the connection
// and says how long that took.
func (rc *rawConn) closedByServer(limit time.Duration) (time.Duration, error) {
	start := time.Now()
	rc.c.SetReadDeadline(start.Add(limit))
	_, err := rc.r.ReadByte()
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return time.Since(start), nil
	case err == nil:
		return 0, errors.New("the server sent data instead of closing")
	}
	return 0, fmt.Errorf("not closed by the server within %v: %w", limit, err)
}

// TestBadInputKeepsAgentUp sends the agent malformed and hostile input
// through its API, its config file and a second instance; each gets a JSON
// error, a closed connection or a log line and an event, and after each the
// agent still answers status.
func TestBadInputKeepsAgentUp(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FW4}})
	a := startAgent(t, l, "default", "default", "allow")

	// A client that connects and says nothing: the server must close it
	// (after its 5 s idle timeout) while everything below goes on.
	silent := dialRaw(t, a.socket)
	silentDone := make(chan error, 1)
	go func() {
		took, err := silent.closedByServer(15 * time.Second)
		if err == nil {
			t.Logf("silent client closed by the agent after %v", took.Round(100*time.Millisecond))
		}
		silentDone <- err
	}()

	for _, step := range []struct {
		name string
		do   func(t *testing.T, a *agentRun)
	}{
		{"bad-requests", badRequests},
		{"over-64KiB", oversizedRequest},
		{"sighup-invalid-value", hupInvalidValue},
		{"sighup-config-vanished", hupConfigVanished},
		{"sighup-good-config-again", hupGoodConfig},
		{"second-agent-same-socket", secondAgent},
	} {
		t.Run(step.name, func(t *testing.T) {
			step.do(t, a)
			if err := a.ping(); err != nil {
				t.Fatalf("status after %s: %v", step.name, err)
			}
		})
	}
	if err := <-silentDone; err != nil {
		t.Fatalf("silent client: %v", err)
	}
	if err := a.ping(); err != nil {
		t.Fatalf("status after the silent client: %v", err)
	}
	a.stop(t)
}

// badRequests: each bad line gets its error code (with the id echoed when
// there is one) and the connection stays usable.
func badRequests(t *testing.T, a *agentRun) {
	rc := dialRaw(t, a.socket)
	for _, c := range []struct{ line, code, id string }{
		{`this is not JSON`, api.CodeBadRequest, ""},
		{`{"id": 1, "method": "status"`, api.CodeBadRequest, ""},
		{`[1, 2, 3]`, api.CodeBadRequest, ""},
		{`"status"`, api.CodeBadRequest, ""},
		{`null`, api.CodeBadRequest, ""},
		{`{"id": 2}`, api.CodeBadRequest, "2"},
		{`{"id": 3, "method": 7}`, api.CodeBadRequest, "3"},
		{`{"id": 4, "method": "status", "paramz": {}}`, api.CodeBadRequest, "4"},
		{`{"id": 5, "method": "frobnicate"}`, api.CodeUnknownMethod, "5"},
		{`{"id": "six", "method": "STATUS"}`, api.CodeUnknownMethod, `"six"`},
		{`{"id": 7, "method": "set", "params": {"protocol": "gre", "mode": "allow"}}`, api.CodeBadParams, "7"},
		{`{"id": 8, "method": "set", "params": {"protocol": "ipsec", "mode": "sometimes"}}`, api.CodeBadParams, "8"},
		{`{"id": 9, "method": "set", "params": [1]}`, api.CodeBadParams, "9"},
		{`{"id": 10, "method": "set", "params": {"protocol": 1, "mode": "allow"}}`, api.CodeBadParams, "10"},
		{`{"id": 11, "method": "history", "params": {"limit": "many"}}`, api.CodeBadParams, "11"},
		{`{"id": 12, "method": "history", "params": {"limit": -1}}`, api.CodeBadParams, "12"},
		{`{"id": 13, "method": "history", "params": {"since": "yesterday"}}`, api.CodeBadParams, "13"},
		{`{"id": 14, "method": "history", "params": {"bogus": true}}`, api.CodeBadParams, "14"},
		{`{"id": 15, "method": "explain", "params": {"proto": "udp", "dst": "not-an-address"}}`, api.CodeBadParams, "15"},
	} {
		r := rc.send(t, c.line)
		if r.Error == nil || r.Error.Code != c.code || string(r.ID) != c.id {
			t.Errorf("%s\n  got id %s error %+v result %.80s; want id %q code %s", c.line, r.ID, r.Error, r.Result, c.id, c.code)
		}
	}
	if r := rc.send(t, `{"id": 99, "method": "status"}`); r.Error != nil || len(r.Result) == 0 {
		t.Fatalf("status on the same connection after the bad requests: %+v", r.Error)
	}
}

// oversizedRequest: a request line over 64 KiB gets bad_request and the
// connection is closed (the rest of the line is never read).
func oversizedRequest(t *testing.T, a *agentRun) {
	rc := dialRaw(t, a.socket)
	line := `{"id": 1, "method": "status", "params": {"pad": "` + strings.Repeat("A", 70<<10) + `"}}` + "\n"
	rc.c.SetDeadline(time.Now().Add(10 * time.Second))
	go io.WriteString(rc.c, line) // the server stops reading: the write may fail
	r := rc.read(t)
	if r.Error == nil || r.Error.Code != api.CodeBadRequest {
		t.Fatalf("over 64 KiB: got %+v, want bad_request", r.Error)
	}
	if _, err := rc.closedByServer(5 * time.Second); err != nil {
		t.Fatalf("after an oversized request: %v", err)
	}
}

// badConfig has an invalid value on a known line in each of both sections.
const badConfig = `config agent 'main'
	option enabled '1'
	list lan_device 'br-lan'
	option history_path '%s/history.db'
	option history_persist_path '%[1]s/saved-history.db'
	option history_max_kb 'lots'
	option observe '0'
	option accounting '0'

config passthrough 'ipsec'
	option mode 'sometimes'
`

// hupInvalidValue: SIGHUP with invalid values keeps the last good config,
// logs each problem with its file, line and option, and records
// config.invalid events with the same.
func hupInvalidValue(t *testing.T, a *agentRun) {
	known := len(a.events(t, historyParams{Kind: "config.invalid"}))
	writeFile(t, a.config, []byte(fmt.Sprintf(badConfig, a.dir)))
	a.hup(t)
	evs := a.waitEvents(t, "config.invalid", known+2)
	want := map[string]int{"history_max_kb": 5, "mode": 10}
	for _, e := range evs[:2] {
		opt, _ := e.Details["option"].(string)
		line, _ := e.Details["line"].(float64)
		if want[opt] == 0 || int(line) != want[opt] || e.Details["file"] != a.config {
			t.Errorf("config.invalid event: %+v; want options %v with their lines in %s", e, want, a.config)
		}
		if !strings.Contains(e.Message, fmt.Sprintf("%s:%d:", a.config, want[opt])) {
			t.Errorf("event message does not name file and line: %q", e.Message)
		}
	}
	log := a.log.String()
	for opt, line := range want {
		if !strings.Contains(log, fmt.Sprintf("%s:%d: vpnpass.", a.config, line)) || !strings.Contains(log, "."+opt+":") {
			t.Errorf("agent log does not name %s:%d option %s", a.config, line, opt)
		}
	}
	if m := a.mode(t, "ipsec"); m != "allow" {
		t.Errorf("ipsec mode %q after an invalid reload, want the last good %q", m, "allow")
	}
}

// hupConfigVanished: SIGHUP with the config file gone keeps the last good
// config and records an error that names the problem.
func hupConfigVanished(t *testing.T, a *agentRun) {
	if err := os.Remove(a.config); err != nil {
		t.Fatal(err)
	}
	known := len(a.events(t, historyParams{Kind: "error"}))
	a.hup(t)
	evs := a.waitEvents(t, "error", known+1)
	if !strings.Contains(evs[0].Message, "config") || !strings.Contains(evs[0].Message, a.config) {
		t.Errorf("error event does not say the config is missing: %q", evs[0].Message)
	}
	if m := a.mode(t, "ipsec"); m != "allow" {
		t.Errorf("ipsec mode %q after the config vanished, want the last good %q", m, "allow")
	}
}

// hupGoodConfig: after the bad reloads a good config still applies.
func hupGoodConfig(t *testing.T, a *agentRun) {
	a.writeConfig(t, "default", "default", "block")
	a.hup(t)
	deadline := time.Now().Add(5 * time.Second)
	for a.mode(t, "ipsec") != "block" {
		if time.Now().After(deadline) {
			t.Fatal("a good config after bad ones was not applied within 5 s of SIGHUP")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// secondAgent: another agent on the same socket refuses with a message
// naming the problem and exits 1; the first keeps its socket, history and
// rules.
func secondAgent(t *testing.T, a *agentRun) {
	startsBefore := len(a.events(t, historyParams{Kind: "agent.started"}))
	out := &lab.Buffer{}
	cmd := a.l.Router.Command(vpnpassBin, "agent", "--config", a.config, "--socket", a.socket)
	cmd.Stdout, cmd.Stderr = out, out
	if err := a.l.Router.StartCmd(cmd); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(out.String(), "another vpnpass daemon") {
			t.Fatalf("second agent: %v, want exit 1 naming the running daemon; output:\n%s", err, out.String())
		}
		if strings.Contains(out.String(), "history") {
			t.Errorf("the second agent went for the history before it found the socket taken:\n%s", out.String())
		}
		t.Logf("second agent refused:\n%s", strings.TrimSpace(out.String()))
	case <-time.After(15 * time.Second):
		t.Fatalf("a second agent on the same socket is still running after 15 s:\n%s", out.String())
	}
	if n := len(a.events(t, historyParams{Kind: "agent.started"})); n != startsBefore {
		t.Errorf("agent.started events %d → %d: the second agent wrote to the first one's history", startsBefore, n)
	}
	if m := a.mode(t, "ipsec"); m != "block" {
		t.Errorf("ipsec mode %q after the second agent, want %q", m, "block")
	}
	if n := taggedRules(t, a.l); n == 0 {
		t.Error("the first agent's rules are gone after the second agent gave up")
	}
}

func (a *agentRun) hup(t *testing.T) {
	t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
}

// waitEvents polls the history until it holds at least n events of kind
// (newest first), for at most 5 s.
func (a *agentRun) waitEvents(t *testing.T, kind string, n int) []apiEvent {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs := a.events(t, historyParams{Kind: kind})
		if len(evs) >= n {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s events within 5 s, want %d", len(evs), kind, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mode returns a protocol's mode as the agent's status reports it.
func (a *agentRun) mode(t *testing.T, proto string) string {
	t.Helper()
	c, err := api.Dial(a.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var st struct {
		Protocols map[string]struct {
			Mode string `json:"mode"`
		} `json:"protocols"`
	}
	if err := c.Call(ctx, "status", nil, &st); err != nil {
		t.Fatalf("status: %v", err)
	}
	return st.Protocols[proto].Mode
}

// TestConfigProblemsAtStart: invalid values in the config at start are
// logged with file, line and option, replaced by the safe defaults, and
// recorded as config.invalid events like those of a reload.
func TestConfigProblemsAtStart(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FirewallNone}})
	a := newAgent(t, l)
	writeFile(t, a.config, []byte(fmt.Sprintf(badConfig, a.dir)))
	a.start(t)
	evs := a.events(t, historyParams{Kind: "config.invalid"})
	got := map[string]bool{}
	for _, e := range evs {
		opt, _ := e.Details["option"].(string)
		got[opt] = true
	}
	if !got["history_max_kb"] || !got["mode"] {
		t.Errorf("config.invalid events at start: %+v; want one for history_max_kb and one for mode", evs)
	}
	if !strings.Contains(a.log.String(), a.config+":10: vpnpass.ipsec.mode") {
		t.Errorf("agent log does not name %s:10 vpnpass.ipsec.mode", a.config)
	}
	if m := a.mode(t, "ipsec"); m != "default" {
		t.Errorf("ipsec mode %q with an invalid value at start, want the safe default", m)
	}
	a.stop(t)
}
