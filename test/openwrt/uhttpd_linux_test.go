package openwrt

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestUhttpdISPLogin follows README "Remote toggling for ISPs" over HTTPS
// from the LAN host: the isp login reads and writes through /ubus (uhttpd
// adds the session key), a method outside the ACL is JSON-RPC -32002, a
// wrong password is [6], and the set is recorded with origin rpcd, user isp.
func TestUhttpdISPLogin(t *testing.T) {
	_, r := openWrt(t)
	w := r.StartUhttpd()
	sid := w.Login(t, "isp", ispPassword)
	for _, c := range []struct{ method, args, key string }{
		{"status", `{}`, "protocols"},
		{"history", `{"kind":"passthrough.","limit":10}`, "events"},
		{"doctor", `{"host":"192.168.1.10"}`, "findings"},
		{"explain", `{"proto":"udp","dst":"203.0.113.10","dport":500}`, "verdict"},
		{"set", `{"protocol":"ipsec","mode":"allow"}`, "changed"},
		{"metrics", `{}`, "text"},
	} {
		rep, err := w.Call(sid, "vpnpass", c.method, c.args)
		if err != nil {
			t.Fatalf("%s: %v", c.method, err)
		}
		v, err := rep.Object()
		if err != nil {
			t.Errorf("%s %s through /ubus: %v", c.method, c.args, err)
		} else if _, ok := v[c.key]; !ok {
			t.Errorf("%s %s through /ubus answered %v, want a result with %q", c.method, c.args, v, c.key)
		}
	}
	if d := lastChange(t, r); d != nil && (d["origin"] != "rpcd" || d["user"] != "isp") {
		t.Errorf("set through /ubus as isp recorded details %v, want {origin: rpcd, user: isp}", d)
	}
	for _, denied := range [][2]string{{"vpnpass", "frobnicate"}, {"file", "read"}, {"uci", "get"}} {
		rep, err := w.Call(sid, denied[0], denied[1], `{}`)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Error == nil || rep.Error.Code != -32002 || rep.Error.Message != "Access denied" {
			t.Errorf("%s.%s outside the ACL answered %+v, want JSON-RPC error -32002 Access denied", denied[0], denied[1], rep)
		}
	}
	rep, err := w.Call(AnonSession, "session", "login", `{"username":"isp","password":"wrong"}`)
	if err != nil || rep.Error != nil || joinRaw(rep.Result) != "[6]" {
		t.Errorf("wrong password answered %+v (%v), want result [6]", rep, err)
	}
}

// TestRemoteScript runs openwrt/examples/vpnpass-remote.sh from the LAN host
// exactly as README shows it (with curl trusting the router's certificate).
func TestRemoteScript(t *testing.T) {
	l, r := openWrt(t)
	w := r.StartUhttpd()
	script := filepath.Join(RepoRoot(t), "openwrt/examples/vpnpass-remote.sh")
	ca := filepath.Join(t.TempDir(), "router.pem")
	writeFile(t, filepath.Dir(ca), filepath.Base(ca), w.certPE, 0o644)
	run := func(args ...string) ([]byte, error) {
		cmd := l.LAN.Command("sh", append([]string{script, w.url, "isp"}, args...)...)
		cmd.Env = append(cmd.Environ(), "CURL_OPTS=--cacert "+ca)
		var out bytes.Buffer
		cmd.Stdout = &out
		err := l.LAN.RunCmd(cmd)
		return out.Bytes(), err
	}
	for _, c := range []struct {
		args   []string
		key    string
		wantOK bool
	}{
		{[]string{ispPassword, "status"}, "protocols", true},
		{[]string{ispPassword, "set", `{"protocol":"ipsec","mode":"allow"}`}, "changed", true},
		{[]string{ispPassword, "set", `{"protocol":"bogus","mode":"allow"}`}, "", false},
		{[]string{ispPassword, "metrics"}, "text", true},
		{[]string{"wrong", "status"}, "", false},
	} {
		out, err := run(c.args...)
		if (err == nil) != c.wantOK {
			t.Errorf("vpnpass-remote.sh %v: %v, want success %v\n%s", c.args, err, c.wantOK, out)
			continue
		}
		if !c.wantOK {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil || v[c.key] == nil {
			t.Errorf("vpnpass-remote.sh %v printed %s, want the result object with %q", c.args, out, c.key)
		}
	}
}

// TestLuCIRuntimeServed: real uhttpd serves LuCI's JavaScript runtime from
// the root and our view beside it, where LuCI's loader looks for them.
func TestLuCIRuntimeServed(t *testing.T) {
	_, r := openWrt(t)
	w := r.StartUhttpd()
	for _, p := range []string{"luci.js", "rpc.js", "ui.js", "form.js", "uci.js", "fs.js", "view/vpnpass/overview.js"} {
		b, err := w.Get("/luci-static/resources/" + p)
		if err != nil || !bytes.Contains(b, []byte("use strict")) {
			t.Errorf("%s: %v (%d bytes)", p, err, len(b))
		}
	}
}
