package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// rpcdCall runs the rpcd exec plugin as rpcd does: `vpnpass rpcd call M`
// with the params on stdin, no other arguments than the socket.
func (a *agentRun) rpcdCall(t *testing.T, method, params string) map[string]any {
	t.Helper()
	v, _ := rpcdPlugin(t, a.l.Router, a.socket, nil, method, params)
	return v
}

// rpcdPlugin runs the plugin in node with extra environment (e.g. a PATH
// holding a stand-in ubus CLI) and says how long it took to answer.
func rpcdPlugin(t *testing.T, node *lab.Node, socket string, env []string, method, params string) (map[string]any, time.Duration) {
	t.Helper()
	cmd := node.Command(vpnpassBin, "rpcd", "call", method, "--socket", socket)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(params)
	var out bytes.Buffer
	cmd.Stdout = &out
	start := time.Now()
	err := node.RunCmd(cmd)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("rpcd call %s: exit %v (rpcd ignores exit codes; ours must be 0)\n%s", method, err, out.String())
	}
	var v map[string]any
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatalf("rpcd call %s printed no JSON object: %v\n%s", method, err, out.String())
	}
	return v, took
}

func (a *agentRun) cliJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, err := a.cli(append(args, "--json")...)
	if err != nil {
		t.Fatalf("vpnpass %v: %v\n%s", args, err, out)
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("vpnpass %v --json: %v\n%s", args, err, out)
	}
	return v
}

// TestRPCDMatchesCLI: every ubus method through the rpcd plugin returns the
// same object as the CLI's --json against the same agent, and errors are
// objects with exit 0.
func TestRPCDMatchesCLI(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FW4Locked}})
	a := startAgent(t, l, "default", "default", "allow")

	var sigs map[string]any
	out, err := l.Router.Run(vpnpassBin, "rpcd", "list")
	if err != nil || json.Unmarshal(out, &sigs) != nil {
		t.Fatalf("rpcd list: %v\n%s", err, out)
	}
	want := []string{"status", "set", "explain", "doctor", "probe", "nat", "history", "reload", "metrics"}
	for _, m := range want {
		if _, ok := sigs[m]; !ok {
			t.Errorf("rpcd list lacks method %s", m)
		}
	}
	if len(sigs) != len(want) {
		t.Errorf("rpcd list has %d methods, want %d: %v", len(sigs), len(want), sigs)
	}

	cases := []struct {
		method, params string
		cli            []string
	}{
		{"status", `{}`, []string{"status"}},
		{"nat", `{}`, []string{"nat"}},
		{"history", `{"kind":"passthrough.","limit":5}`, []string{"history", "--kind", "passthrough.", "--limit", "5"}},
		{"explain", `{"proto":"udp","dst":"203.0.113.10","dport":500}`, []string{"explain", "--proto", "udp", "--dst", "203.0.113.10", "--dport", "500"}},
		{"set", `{"protocol":"l2tp","mode":"allow","dry_run":true}`, []string{"enable", "l2tp", "--dry-run"}},
	}
	for _, tc := range cases {
		got := a.rpcdCall(t, tc.method, tc.params)
		wantObj := a.cliJSON(t, tc.cli...)
		if !reflect.DeepEqual(got, wantObj) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(wantObj)
			t.Errorf("rpcd %s differs from CLI %v:\nrpcd: %s\ncli:  %s", tc.method, tc.cli, g, w)
		}
	}
	if v := a.rpcdCall(t, "status", ``); v["backend"] == nil {
		t.Errorf("empty stdin: want the status object, got %v", v)
	}
	errs := []struct{ method, params, code string }{
		{"status", `{not json`, "bad_request"},
		{"set", `{"protocol":"sstp","mode":"allow"}`, "bad_params"},
		{"set", `{"protocol":"ipsec","mode":42}`, "bad_params"},
		{"frobnicate", `{}`, "unknown_method"},
	}
	for _, e := range errs {
		v := a.rpcdCall(t, e.method, e.params)
		eo, _ := v["error"].(map[string]any)
		if eo == nil || eo["code"] != e.code || eo["message"] == "" {
			t.Errorf("rpcd call %s %s = %v, want error code %s", e.method, e.params, v, e.code)
		}
	}
	a.stop(t)
	v := a.rpcdCall(t, "status", `{}`)
	if eo, _ := v["error"].(map[string]any); eo == nil || eo["code"] != "not_available" {
		t.Errorf("without a daemon: %v, want error not_available", v)
	}
}
