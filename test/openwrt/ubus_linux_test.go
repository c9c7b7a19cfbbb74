package openwrt

import (
	"encoding/json"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"
)

// interfaceSignature is the normative `rpcd list`
// (docs/interface.md#rpcd-plugin-and-ubus), as the ubus CLI shows a
// signature: "str" is a String, 32 an Integer, true a Boolean.
var interfaceSignature = map[string]map[string]string{
	"status":  {},
	"set":     {"protocol": "String", "mode": "String", "dry_run": "Boolean"},
	"explain": {"proto": "String", "dst": "String", "dport": "Integer", "src": "String"},
	"doctor":  {"host": "String"},
	"probe":   {"host": "String", "protocol": "String"},
	"nat":     {"probe": "Boolean"},
	"history": {"since": "String", "kind": "String", "limit": "Integer", "until": "String", "protocol": "String", "before": "Integer"},
	"reload":  {},
	"metrics": {},
}

// TestUbusListSignature: real rpcd registers exactly the contract's methods
// and argument types from our plugin's `list`.
func TestUbusListSignature(t *testing.T) {
	_, r := openWrt(t)
	out, err := r.Run("", "ubus", "-v", "list", "vpnpass")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n")[1:] {
		name, sig, ok := strings.Cut(strings.TrimSpace(line), ":")
		var args map[string]string
		if !ok || json.Unmarshal([]byte(sig), &args) != nil {
			t.Fatalf("ubus -v list line %q is not \"method\":{signature}\n%s", line, out)
		}
		got[strings.Trim(name, `"`)] = args
	}
	if !reflect.DeepEqual(got, interfaceSignature) {
		t.Errorf("ubus -v list vpnpass:\n got %v\nwant %v (docs/interface.md)\n%s", got, interfaceSignature, out)
	}
}

// ubusCall runs `ubus call vpnpass M ARGS` (the shell's origin: no session)
// and decodes the object it prints. The CLI waits 40 s, beyond rpcd's 30 s,
// so a slow answer shows as slow rather than as the CLI's own timeout.
func (r *Router) ubusCall(method, args string) (map[string]any, time.Duration, error) {
	start := time.Now()
	out, err := r.Run("", "ubus", "-t", "40", "call", "vpnpass", method, args)
	took := time.Since(start)
	if err != nil {
		return nil, took, err
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, took, fmt.Errorf("ubus call vpnpass %s printed no object: %w\n%s", method, err, out)
	}
	return v, took, nil
}

// TestUbusCallEveryMethod: every method through real ubusd and rpcd answers
// a result object; bad arguments answer a bad_params error object.
func TestUbusCallEveryMethod(t *testing.T) {
	_, r := openWrt(t)
	calls := []struct{ method, args, key string }{
		{"status", `{}`, "protocols"},
		{"set", `{"protocol":"l2tp","mode":"allow","dry_run":true}`, "plan"},
		{"set", `{"protocol":"ipsec","mode":"allow"}`, "changed"},
		{"explain", `{"proto":"udp","dst":"203.0.113.10","dport":500}`, "verdict"},
		{"doctor", `{"host":"192.168.1.10"}`, "findings"},
		{"probe", `{"host":"203.0.113.10","protocol":"ipsec"}`, "results"},
		{"nat", `{}`, "class"},
		{"history", `{"kind":"passthrough.","limit":5}`, "events"},
		{"history", `{"protocol":"ipsec","before":2,"until":"1h"}`, "events"},
		{"reload", `{}`, "reloaded"},
		{"metrics", `{}`, "text"},
	}
	for _, c := range calls {
		v, took, err := r.ubusCall(c.method, c.args)
		if err != nil {
			t.Errorf("%s %s: %v", c.method, c.args, err)
			continue
		}
		if _, ok := v[c.key]; !ok {
			t.Errorf("%s %s took %v and answered %v, want a result with %q", c.method, c.args, took.Round(time.Millisecond), v, c.key)
		}
		if took > 10*time.Second {
			t.Errorf("%s took %v, over the 10 s every rpcd call must fit in", c.method, took)
		}
	}
	if d := lastChange(t, r); d != nil && d["origin"] != "ubus" {
		t.Errorf("set by `ubus call` recorded details %v, want origin ubus (docs/interface.md)", d)
	}
	bad := []string{
		`{"protocol":"bogus","mode":"allow"}`,
		`{"protocol":"ipsec","mode":"allow","colour":"red"}`,
		`{"protocol":"ipsec"}`,
	}
	for _, args := range bad {
		v, _, err := r.ubusCall("set", args)
		if err != nil {
			t.Errorf("set %s: %v (want an error object, exit 0)", args, err)
			continue
		}
		assertError(t, "set "+args, v, "bad_params")
	}
}

// lastChange returns the details of the newest passthrough.changed event
// (nil, and the test marked failed, when there is none).
func lastChange(t *testing.T, r *Router) map[string]any {
	t.Helper()
	v, _, err := r.ubusCall("history", `{"kind":"passthrough.changed","limit":1}`)
	if err != nil {
		t.Error(err)
		return nil
	}
	evs, _ := v["events"].([]any)
	if len(evs) == 0 {
		t.Errorf("no passthrough.changed event: %v", v)
		return nil
	}
	ev, _ := evs[0].(map[string]any)
	d, _ := ev["details"].(map[string]any)
	return d
}

// assertError checks an API error object (docs/interface.md#local-api) (and its code, if given).
func assertError(t *testing.T, what string, v map[string]any, code string) {
	t.Helper()
	e, ok := v["error"].(map[string]any)
	if !ok {
		t.Errorf("%s answered %v, want {\"error\":{\"code\",\"message\"}}", what, v)
		return
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Errorf("%s: error without a message: %v", what, v)
	}
	if c, _ := e["code"].(string); c == "" || (code != "" && c != code) {
		t.Errorf("%s: error code %q, want %q", what, e["code"], code)
	}
}

// TestUbusAgentDown: with the agent stopped, and with a hung agent (a socket
// that accepts and never answers), every call still answers an error object
// within 10 s, not rpcd's status 7 after 30 s.
func TestUbusAgentDown(t *testing.T) {
	_, r := openWrt(t)
	r.StopAgent()
	check := func(state string) {
		for _, m := range []string{"status", "doctor", "history"} {
			v, took, err := r.ubusCall(m, `{}`)
			if err != nil {
				t.Errorf("%s, %s after %v: %v (want an error object)", state, m, took.Round(time.Millisecond), err)
				continue
			}
			if took > 10*time.Second {
				t.Errorf("%s, %s took %v, want within 10 s", state, m, took.Round(time.Millisecond))
			}
			if _, ok := v["error"]; ok {
				assertError(t, state+" "+m, v, "")
			} else if m != "status" {
				// status may fall back to a direct look; the others need the agent.
				t.Errorf("%s, %s answered %v, want an error object", state, m, v)
			}
			t.Logf("%s: %s answered in %v", state, m, took.Round(time.Millisecond))
		}
	}
	check("agent stopped")

	ln, err := net.Listen("unix", r.HostPath("/run/vpnpass.sock"))
	must(t, err)
	defer ln.Close()
	go func() {
		var held []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c) // read nothing, answer nothing
		}
	}()
	check("agent hung")
}
