package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// ispSID is the rpcd session of the login "isp"; deadSID an expired one.
const (
	ispSID  = "c1ed6c7b025d0caca723a816fa61b668"
	deadSID = "0badc0de0badc0de0badc0de0badc0de"
)

// fakeSessionUbus writes a stand-in for OpenWrt's ubus CLI that answers
// exactly rpcd's `session get` for ispSID as rpcd does (login name under
// "username") and fails like ubus for anything else (status 4: not found).
// It returns the PATH entry to give the plugin.
func fakeSessionUbus(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	want := `-t 2 call session get {"keys":["username"],"ubus_rpc_session":"` + ispSID + `"}`
	script := fmt.Sprintf("#!/bin/sh\nif [ \"$*\" = '%s' ]; then echo '{\"values\":{\"username\":\"isp\"}}'; exit 0; fi\n"+
		"echo 'Command failed: Not found' >&2\nexit 4\n", want)
	if err := os.WriteFile(filepath.Join(dir, "ubus"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{"PATH=" + dir + ":" + os.Getenv("PATH")}
}

// TestRPCDThroughUbusSession: the plugin gets the stdin a call through
// uhttpd's /ubus produces (rpcd writes the call's arguments as JSON, and
// uhttpd appended ubus_rpc_session last): every method works, any other
// unknown key stays bad_params, and passthrough.changed names who changed
// a mode: the CLI, `ubus call` from a shell, and the rpcd login behind
// the session (none when the session has no login). The session id is
// never stored.
func TestRPCDThroughUbusSession(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FW4Locked}})
	a := startAgent(t, l)
	env := fakeSessionUbus(t)
	uhttpd := func(args string, sid string) string { // args without the braces
		if args != "" {
			args += ","
		}
		return `{` + args + `"ubus_rpc_session":"` + sid + `"}`
	}
	if out, err := a.cli("enable", "pptp"); err != nil {
		t.Fatalf("vpnpass enable pptp: %v\n%s", err, out)
	}
	steps := []struct{ params string }{
		{`{"protocol":"l2tp","mode":"allow"}`},                              // ubus call vpnpass set from a shell
		{uhttpd(`"protocol":"ipsec","mode":"allow"`, ispSID)},               // the ISP's login through /ubus
		{uhttpd(`"protocol":"ipsec","mode":"block"`, deadSID)},              // a session whose login is unknown
		{uhttpd(`"protocol":"l2tp","mode":"block","dry_run":true`, ispSID)}, // dry run: nothing recorded
	}
	for _, s := range steps {
		v, took := rpcdPlugin(t, l.Router, a.socket, env, "set", s.params)
		if v["error"] != nil || v["plan"] == nil {
			t.Fatalf("set %s: %v", s.params, v)
		}
		t.Logf("set through the plugin: %v", took.Round(time.Millisecond))
	}
	for _, m := range []struct{ method, args string }{
		{"status", ``}, {"nat", ``}, {"doctor", `"host":"192.168.1.10"`}, {"reload", ``},
		{"explain", `"proto":"udp","dst":"203.0.113.10","dport":500`},
	} {
		if v, _ := rpcdPlugin(t, l.Router, a.socket, env, m.method, uhttpd(m.args, ispSID)); v["error"] != nil {
			t.Errorf("%s through /ubus: %v", m.method, v)
		}
	}
	v, _ := rpcdPlugin(t, l.Router, a.socket, env, "set", uhttpd(`"protocol":"ipsec","mode":"allow","bogus":1`, ispSID))
	if eo, _ := v["error"].(map[string]any); eo == nil || eo["code"] != "bad_params" || !strings.Contains(eo["message"].(string), `"bogus"`) {
		t.Errorf("an unknown key beside the session: %v, want bad_params naming it", v)
	}

	hist, _ := rpcdPlugin(t, l.Router, a.socket, env, "history", uhttpd(`"kind":"passthrough.","limit":10`, ispSID))
	raw, _ := json.Marshal(hist)
	if strings.Contains(string(raw), ispSID) || strings.Contains(string(raw), deadSID) {
		t.Errorf("the history holds a session id: %s", raw)
	}
	var h struct {
		Events []struct {
			Protocol string         `json:"protocol"`
			Message  string         `json:"message"`
			Details  map[string]any `json:"details"`
		} `json:"events"`
	}
	_ = json.Unmarshal(raw, &h)
	want := []string{ // newest first
		`ipsec {"from":"allow","origin":"rpcd","to":"block"}`,
		`ipsec {"from":"default","origin":"rpcd","to":"allow","user":"isp"}`,
		`l2tp {"from":"default","origin":"ubus","to":"allow"}`,
		`pptp {"from":"default","origin":"cli","to":"allow"}`,
	}
	var got []string
	for _, ev := range h.Events {
		d, _ := json.Marshal(ev.Details)
		got = append(got, ev.Protocol+" "+string(d))
		t.Logf("%s", ev.Message)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("passthrough.changed events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRPCDAnswersWithin10s: the plugin answers within 10 s with a result
// or an error object when the router probes a silent host (7 s), and when
// the agent is hung (its socket accepts, nothing answers).
func TestRPCDAnswersWithin10s(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Single})
	nftIn(t, l.Inet, fmt.Sprintf("add table inet server; add chain inet server in { type filter hook input priority 0; ip daddr %s drop; }", lab.Server))
	a := startAgent(t, l)
	v, took := rpcdPlugin(t, l.Router, a.socket, nil, "probe", `{"host":"`+lab.Server.String()+`","ubus_rpc_session":"`+ispSID+`"}`)
	t.Logf("probe of a silent host through the plugin: %v: %v", took.Round(time.Millisecond), v)
	res, _ := v["results"].([]any)
	if len(res) != 4 || took > 10*time.Second {
		t.Errorf("probe of a silent host: %v in %v, want 4 silent ports within 10 s", v, took)
	}
	for _, r := range res {
		if m, _ := r.(map[string]any); m["outcome"] != "silent" {
			t.Errorf("port %v: want silent", r)
		}
	}

	hung := filepath.Join(t.TempDir(), "hung.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: hung, Net: "unix"}) // accepts in the kernel, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	v, took = rpcdPlugin(t, l.Router, hung, nil, "status", `{}`)
	t.Logf("hung agent: %v: %v", took.Round(time.Millisecond), v)
	if eo, _ := v["error"].(map[string]any); eo == nil || eo["code"] != "failed" || took > 10*time.Second {
		t.Errorf("hung agent: %v after %v, want a failed error object within 10 s", v, took)
	}
}
