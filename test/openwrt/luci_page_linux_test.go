package openwrt

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/cdp"
	"github.com/vpnpass/vpnpass/test/lab"
)

// pagePath is the view's menu node (luci-app-vpnpass's menu.d).
const pagePath = "/cgi-bin/luci/admin/network/vpnpass"

// modeSelect is form.js's widget id of the IPsec mode (form.Map vpnpass,
// section main, option mode_ipsec).
const modeSelect = `document.getElementById('widget.cbid.vpnpass.main.mode_ipsec')`

func artifactsDir(t *testing.T) string { return cdp.ArtifactsDir(t) }

// openPage starts Chromium in the LAN host (Accept-Language from lang),
// logs in through the dispatcher's login form and waits for the view.
func openPage(t *testing.T, l *lab.Lab, w *Web, user, password, lang string) *browser {
	t.Helper()
	b := startBrowser(t, lang, l.LAN.StartCmd)
	// headless Chromium does not take Accept-Language from --lang
	var v struct{ UserAgent string }
	b.Call("", "Browser.getVersion", nil, &v)
	b.Call(b.Session(), "Network.setUserAgentOverride", map[string]any{"userAgent": v.UserAgent, "acceptLanguage": lang}, nil)
	b.Navigate(w.url + pagePath)
	b.WaitFor("the login form", `!!document.getElementById('luci_username')`, 20*time.Second)
	b.MustEval(`(() => { document.getElementById('luci_username').value = `+jsString(user)+`;
		document.getElementById('luci_password').value = `+jsString(password)+`;
		document.getElementById('login').submit(); return true; })()`, nil)
	waitView(b)
	return b
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// waitView waits until LuCI has rendered the view (the spinner is gone)
// and the status part is filled or names a failure.
func waitView(b *browser) {
	b.t.Helper()
	b.WaitFor("the vpnpass view", `!!document.getElementById('vpnpass') && !document.querySelector('#view > .spinning') &&
		(document.querySelectorAll('[data-protocol] .vpnpass-verdict').length == 3 || !!document.querySelector('#vpnpass-notice [data-failure]'))`,
		30*time.Second)
}

var nullText = regexp.MustCompile(`\b(null|undefined|NaN|\[object Object\])\b`)

// checkClean: no exception or console error, no LuCI error box, and no
// "null"/"undefined" printed where a value was missing.
func checkClean(t *testing.T, b *browser) {
	t.Helper()
	if errs := b.PageErrors(); len(errs) > 0 {
		t.Errorf("page errors on LuCI's runtime: %q", errs)
	}
	var text, alerts string
	b.MustEval(`document.getElementById('maincontent').innerText`, &text)
	b.MustEval(`Array.from(document.querySelectorAll('.alert-message.error, .alert-message.danger')).map((e) => e.innerText).join(' | ')`, &alerts)
	if m := nullText.FindString(text); m != "" {
		t.Errorf("page prints %q:\n%s", m, text)
	}
	if alerts != "" {
		t.Errorf("LuCI error box: %s", alerts)
	}
}

// checkAnswered: the doctor and the history answered through uhttpd's
// /ubus (calls with parameters: issue 11 item 1, the session key uhttpd adds).
func checkAnswered(t *testing.T, b *browser) {
	t.Helper()
	var failed []string
	b.MustEval(`Array.from(document.querySelectorAll('#vpnpass-findings [data-failure], #vpnpass-history [data-failure]')).map((e) => e.innerText)`, &failed)
	if len(failed) > 0 {
		t.Errorf("the doctor or the history failed on real uhttpd/rpcd: %q", failed)
	}
}

// agentStatus is `ubus call vpnpass status` in the router.
type agentStatus struct {
	Protocols map[string]struct{ Mode, Verdict string }
	WAN       struct{ Code string } `json:"wan"`
}

func (r *Router) status(t *testing.T) agentStatus {
	t.Helper()
	out, err := r.Run("", "ubus", "call", "vpnpass", "status")
	must(t, err)
	var s agentStatus
	must(t, json.Unmarshal(out, &s))
	return s
}

// pageVerdicts reads protocol -> verdict from the page.
func pageVerdicts(b *browser) map[string]string {
	var v map[string]string
	b.MustEval(`Object.fromEntries(Array.from(document.querySelectorAll('tr[data-protocol]')).map((r) =>
		[ r.dataset.protocol, r.querySelector('.vpnpass-verdict').dataset.verdict ]))`, &v)
	return v
}

func checkVerdicts(t *testing.T, b *browser, st agentStatus) {
	t.Helper()
	page := pageVerdicts(b)
	for name, p := range st.Protocols {
		if _, shown := page[name]; !shown && name != "pptp" && name != "l2tp" && name != "ipsec" {
			continue
		}
		if page[name] != p.Verdict {
			t.Errorf("%s: page shows verdict %q, agent says %q", name, page[name], p.Verdict)
		}
	}
	var code string
	b.MustEval(`(document.querySelector('.vpnpass-nat') || { dataset: {} }).dataset.code || ''`, &code)
	if code != st.WAN.Code {
		t.Errorf("NAT verdict in the page %q, agent %q", code, st.WAN.Code)
	}
}

func ikePasses(l *lab.Lab) bool {
	_, _, err := lab.UDPExchange(l.LAN, netip.AddrPortFrom(lab.Server, 500), []byte("ike?"), 700*time.Millisecond)
	return err == nil
}

// TestLuCIRealSaveApply drives our view on LuCI's real runtime against
// real uhttpd and rpcd as admin: the page shows the agent's verdicts;
// IPsec's mode changed in the form and Save & Apply goes through rpcd's
// uci apply with rollback and the confirm, procd's reload trigger
// (stand-in) HUPs the agent, a LAN client's IKE then passes and the page
// shows accept. Then the Japanese page and a phone-width screenshot.
func TestLuCIRealSaveApply(t *testing.T) {
	cdp.FindChromium(t)
	l, r, w := luciWrt(t, luciOpts{})
	echo, err := l.Inet.ServeUDPEcho(netip.AddrPortFrom(lab.Server, 500))
	must(t, err)
	t.Cleanup(func() { echo.Close() })
	if ikePasses(l) {
		t.Fatal("IKE passes the locked-down fw4 before anything was allowed")
	}
	b := openPage(t, l, w, "admin", adminPassword, "en")
	checkClean(t, b)
	checkVerdicts(t, b, r.status(t))
	checkAnswered(t, b)
	var disabled bool
	b.MustEval(modeSelect+`.disabled`, &disabled)
	if disabled {
		t.Fatal("admin sees a disabled IPsec mode control")
	}

	start := time.Now()
	b.MustEval(`(() => { const s = `+modeSelect+`; s.value = 'allow';
		s.dispatchEvent(new Event('change', { bubbles: true }));
		document.querySelector('.cbi-page-actions .cbi-button-apply').click(); return true; })()`, nil)
	b.WaitFor("IPsec passing after Save & Apply", `(document.querySelector('[data-protocol=ipsec] .vpnpass-verdict') || { dataset: {} }).dataset.verdict == 'accept'`, 60*time.Second)
	t.Logf("Save & Apply: click to IPsec accept in the page in %v", time.Since(start).Round(100*time.Millisecond))
	r.WaitFor("the confirm of the apply", 30*time.Second, func() error { return rollbackDone(r) })
	if out, err := r.Run("", "uci", "get", "vpnpass.ipsec.mode"); err != nil || strings.TrimSpace(string(out)) != "allow" {
		t.Errorf("/etc/config/vpnpass: ipsec mode %q (%v) after Save & Apply", out, err)
	}
	if st := r.status(t); st.Protocols["ipsec"].Mode != "allow" || st.Protocols["ipsec"].Verdict != "accept" {
		t.Errorf("agent says ipsec %+v after Save & Apply", st.Protocols["ipsec"])
	}
	if !ikePasses(l) {
		t.Error("a LAN client's IKE (UDP 500) does not pass after allowing IPsec in the page")
	}
	if log := r.logs["ucode"].String(); !strings.Contains(log, "service event config.change vpnpass") {
		t.Errorf("rpcd's apply never sent procd's config.change for vpnpass; procd stand-in log:\n%s", log)
	}
	waitView(b)
	checkClean(t, b)
	b.Screenshot(filepath.Join(artifactsDir(t), "luci-real-en.png"), 1200)
	b.Screenshot(filepath.Join(artifactsDir(t), "luci-real-phone.png"), 390)

	j := openPage(t, l, w, "admin", adminPassword, "ja")
	checkClean(t, j)
	var ja struct{ Lang, Title, Verdict, Mode string }
	j.MustEval(`({ Lang: document.documentElement.lang, Title: document.querySelector('#vpnpass h2').textContent,
		Verdict: document.querySelector('[data-protocol=ipsec] .vpnpass-verdict').textContent,
		Mode: (() => { const s = `+modeSelect+`; return s.options[s.selectedIndex].textContent; })() })`, &ja)
	if ja.Lang != "ja" || ja.Title != "VPN パススルー" || ja.Verdict != "通過" || ja.Mode != "パススルーを許可" {
		t.Errorf("Japanese page: %+v", ja)
	}
	j.Screenshot(filepath.Join(artifactsDir(t), "luci-real-ja.png"), 1200)
}

// rollbackDone: the dispatcher's controller cleared the pending rollback
// (its confirm ran), and rpcd has no apply pending (a second confirm fails).
func rollbackDone(r *Router) error {
	out, err := r.Run("", "ubus", "call", "session", "get", `{"ubus_rpc_session":"`+AnonSession+`","keys":["rollback"]}`)
	if err != nil {
		return err
	}
	var v struct {
		Values struct{ Rollback map[string]any }
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return err
	}
	if len(v.Values.Rollback) != 0 {
		return fmt.Errorf("rollback still pending: %s", out)
	}
	return nil
}

// TestLuCIRealReadOnly: a login with only the read half of LuCI's base and
// of our app sees the live status, every settings control disabled (form.js
// from the dispatcher's nodespec.readonly and rpcd's uci ACL), no usable
// Save & Apply, and its write attempts through /ubus are denied (-32002).
func TestLuCIRealReadOnly(t *testing.T) {
	cdp.FindChromium(t)
	l, r, w := luciWrt(t, luciOpts{})
	b := openPage(t, l, w, "viewer", viewerPassword, "en")
	checkClean(t, b)
	checkVerdicts(t, b, r.status(t))
	checkAnswered(t, b)
	var ro struct {
		Readonly                 bool
		Controls, Enabled, Apply int // Apply: usable Save & Apply and Save buttons
	}
	b.MustEval(`({ Readonly: !!L.env.nodespec.readonly,
		Controls: document.querySelectorAll('.cbi-map select, .cbi-map input').length,
		Enabled: Array.from(document.querySelectorAll('.cbi-map select, .cbi-map input')).filter((e) => !e.disabled).length,
		Apply: Array.from(document.querySelectorAll('.cbi-page-actions .cbi-button-apply, .cbi-page-actions .cbi-button-save'))
			.filter((e) => !e.disabled && !e.hasAttribute('disabled')).length })`, &ro)
	if !ro.Readonly || ro.Controls == 0 || ro.Enabled != 0 || ro.Apply != 0 {
		t.Errorf("read-only login: %+v, want readonly, every control disabled and no usable Save & Apply", ro)
	}
	for _, call := range []string{
		`rpc.declare({ object: 'uci', method: 'set', params: [ 'config', 'section', 'values' ] })('vpnpass', 'ipsec', { mode: 'allow' })`,
		`rpc.declare({ object: 'vpnpass', method: 'set', params: [ 'protocol', 'mode' ] })('ipsec', 'allow')`,
	} {
		var got string
		b.MustEval(`L.require('rpc').then((rpc) => `+call+`).then((r) => 'answered ' + JSON.stringify(r), (e) => String(e.message))`, &got)
		if !strings.Contains(got, "-32002") {
			t.Errorf("read-only %s: %s, want JSON-RPC error -32002", call, got)
		}
	}
	if st := r.status(t); st.Protocols["ipsec"].Mode != "default" {
		t.Errorf("a read-only login changed ipsec to %q", st.Protocols["ipsec"].Mode)
	}
	checkClean(t, b)
}

// TestLuCIRealFailures: each failure the page can meet on a real router is
// named as what it is, with nothing printed as null or undefined.
func TestLuCIRealFailures(t *testing.T) {
	cdp.FindChromium(t)
	for _, c := range []struct {
		kind string
		opts luciOpts
		// before runs after the login, then the page is loaded again
		before func(t *testing.T, r *Router, b *browser)
	}{
		{"stopped", luciOpts{}, func(t *testing.T, r *Router, b *browser) { r.StopAgent() }},
		{"missing", luciOpts{noPlugin: true}, nil},
		{"denied", luciOpts{}, func(t *testing.T, r *Router, b *browser) {
			// rpcd's own revoke takes vpnpass.status from this login's session
			var sid string
			b.MustEval(`L.env.sessionid`, &sid)
			if _, err := r.Run("", "ubus", "call", "session", "revoke",
				`{"ubus_rpc_session":"`+sid+`","scope":"ubus","objects":[["vpnpass","status"]]}`); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.kind, func(t *testing.T) {
			l, r, w := luciWrt(t, c.opts)
			b := openPage(t, l, w, "admin", adminPassword, "en")
			if c.before != nil {
				c.before(t, r, b)
				b.Navigate(w.url + pagePath)
				waitView(b)
			}
			var got struct{ Kind, Text string }
			b.MustEval(`(() => { const f = document.querySelector('#vpnpass-notice [data-failure]');
				return f ? { Kind: f.dataset.failure, Text: f.innerText } : { Kind: '', Text: '' }; })()`, &got)
			if got.Kind != c.kind {
				t.Errorf("page names failure %q (%q), want %q", got.Kind, got.Text, c.kind)
			}
			checkClean(t, b)
		})
	}
}
