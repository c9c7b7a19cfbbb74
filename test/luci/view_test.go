package luci

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/build/po2lmo/lmo"
	"github.com/vpnpass/vpnpass/test/cdp"
)

// fixtureBackend answers from recorded agent output (testdata/, taken from
// a lab router with locked-down fw4) and from the doctor's golden findings
// (diagnose/testdata/findings, written by diagnose.Diagnose).
func fixtureBackend(t *testing.T) (ubusBackend, int) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "diagnose", "testdata", "findings", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden findings: %v", err)
	}
	var all []json.RawMessage
	for _, f := range files {
		var list []json.RawMessage
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &list); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		all = append(all, list...)
	}
	doctor, _ := json.Marshal(map[string]any{"findings": all, "sessions": []any{}})
	read := func(name string) json.RawMessage {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return func(method string, _ json.RawMessage) (json.RawMessage, error) {
		switch method {
		case "status":
			return read("status-fw4-locked.json"), nil
		case "history":
			return read("history.json"), nil
		case "doctor":
			return doctor, nil
		}
		return nil, fmt.Errorf("fixture has no %s", method)
	}, len(all)
}

type renderedFinding struct {
	Code, Msg, MsgAgent, Advice, AdviceAgent string
}

const findingsJS = `Array.from(document.querySelectorAll('.vpnpass-finding')).map((e) => {
	const m = e.querySelector('.vpnpass-finding-message'), a = e.querySelector('.vpnpass-advice-text');
	return { Code: e.dataset.code, Msg: m.textContent, MsgAgent: m.title,
		Advice: a ? a.textContent : '', AdviceAgent: a ? a.title : '' };
})`

// pageAdvice are the codes whose advice on the page points at the mode
// select above instead of the CLI and menu path the agent names.
var pageAdvice = map[string]bool{"firewall-drops": true, "pptp-no-helper": true, "helper-unavailable": true}

func openPage(t *testing.T, lang string, backend ubusBackend, listen func() (net.Listener, error), start func(*exec.Cmd) error) (*browser, *front) {
	t.Helper()
	ln, err := listen()
	if err != nil {
		t.Fatal(err)
	}
	f := startFront(t, ln, backend, "")
	b := startBrowser(t, lang, start)
	b.open(f.url + "/?lang=" + lang)
	return b, f
}

// open loads the page and waits for the view to be rendered.
func (b *browser) open(url string) {
	b.t.Helper()
	// the page shown before must not pass for the new one
	_ = b.Eval(`document.body ? (delete document.body.dataset.viewReady, true) : true`, nil)
	b.Navigate(url)
	b.WaitFor("the rendered view", `document.body.dataset.viewReady == '1'`, 20*time.Second)
}

func localListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// TestFindingsRenderFromCode: every golden finding renders from its code
// and params; in English exactly the agent's own sentences, in Japanese
// fully translated with every value in place.
func TestFindingsRenderFromCode(t *testing.T) {
	cdp.FindChromium(t)
	backend, n := fixtureBackend(t)
	artifacts := cdp.ArtifactsDir(t)

	b, _ := openPage(t, "en", backend, localListen, (*exec.Cmd).Start)
	var en []renderedFinding
	b.MustEval(findingsJS, &en)
	if len(en) != n {
		t.Fatalf("page shows %d findings, the doctor gave %d", len(en), n)
	}
	for _, f := range en {
		if f.Msg != f.MsgAgent {
			t.Errorf("%s message:\npage:  %s\nagent: %s", f.Code, f.Msg, f.MsgAgent)
		}
		if f.Advice != f.AdviceAgent && !pageAdvice[f.Code] {
			t.Errorf("%s advice:\npage:  %s\nagent: %s", f.Code, f.Advice, f.AdviceAgent)
		}
		if strings.ContainsAny(f.Msg+f.Advice, "{}") {
			t.Errorf("%s: placeholder left: %s / %s", f.Code, f.Msg, f.Advice)
		}
	}
	checkCommon(t, b)
	b.Screenshot(filepath.Join(artifacts, "luci-findings-en.png"), 1200)
	b.Screenshot(filepath.Join(artifacts, "luci-findings-en-phone.png"), 390)

	j, _ := openPage(t, "ja", backend, localListen, (*exec.Cmd).Start)
	var untranslated map[string]bool
	j.MustEval("window.__untranslated", &untranslated)
	for _, same := range sameInJapanese(t) {
		delete(untranslated, same) // po2lmo leaves out what reads the same
	}
	if len(untranslated) > 0 {
		t.Errorf("strings the Japanese catalog lacks: %v", untranslated)
	}
	var ja []renderedFinding
	j.MustEval(findingsJS, &ja)
	for _, f := range ja {
		if f.Msg == f.MsgAgent || strings.ContainsAny(f.Msg+f.Advice, "{}") || !strings.ContainsAny(f.Msg, "のはをがにで") {
			t.Errorf("%s not rendered in Japanese: %s / %s", f.Code, f.Msg, f.Advice)
		}
	}
	var title string
	j.MustEval(`document.querySelector('#vpnpass h2').textContent`, &title)
	if title != "VPN パススルー" {
		t.Errorf("title %q", title)
	}
	j.Screenshot(filepath.Join(artifacts, "luci-findings-ja.png"), 1200)
	j.Screenshot(filepath.Join(artifacts, "luci-findings-ja-phone.png"), 390)
}

// sameInJapanese lists the msgids whose Japanese text is the msgid itself.
func sameInJapanese(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(appDir, "po", "ja", "vpnpass.po"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, _, err := lmo.ParsePO(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Key == e.Value {
			out = append(out, e.Key)
		}
	}
	return out
}

// checkCommon: no script errors, no "null"/"undefined" printed (LuCI's
// dom.append prints them for missing items), and the page polls no more
// often than every 5 s (each ubus call starts a process on the router).
func checkCommon(t *testing.T, b *browser) {
	t.Helper()
	var errs []string
	b.MustEval("window.__errors", &errs)
	if len(errs) > 0 {
		t.Errorf("page errors: %q", errs)
	}
	var printed bool
	b.MustEval(`/\b(null|undefined|NaN)\b/.test(document.getElementById('view').innerText)`, &printed)
	if printed {
		var text string
		b.MustEval(`document.getElementById('view').innerText`, &text)
		t.Errorf("the page prints null, undefined or NaN:\n%s", text)
	}
	var intervals []float64
	b.MustEval("window.__pollIntervals", &intervals)
	if len(intervals) == 0 {
		t.Error("the page never polls")
	}
	for _, i := range intervals {
		if i < 5 {
			t.Errorf("poll interval %v s, want >= 5", i)
		}
	}
}

// TestPollKeepsFormControls: the 10 s poll repaints the live status only.
// A mode dropdown the user is changing keeps its element, its focus and
// the value not yet saved; each poll is one ubus call (status), and the
// page's opening calls (status, doctor) go out as one batched request.
func TestPollKeepsFormControls(t *testing.T) {
	cdp.FindChromium(t)
	backend, _ := fixtureBackend(t)
	b, f := openPage(t, "en", backend, localListen, (*exec.Cmd).Start)
	var first []string
	b.MustEval(`window.__rpcBatches[0]`, &first)
	if strings.Join(first, " ") != "vpnpass.status vpnpass.doctor" {
		t.Errorf("first request batches %q, want status and doctor together (the history has its tab)", first)
	}
	const sel = `document.getElementById('widget.cbid.vpnpass.main.mode_pptp')`
	b.MustEval(`(() => { const s = `+sel+`; s.focus(); s.value = 'block'; s.__mark = 'mine';
		s.dispatchEvent(new Event('change', { bubbles: true })); return true; })()`, nil)
	status, doctor, history := f.count("vpnpass.status"), f.count("vpnpass.doctor"), f.count("vpnpass.history")
	b.MustEval(`window.__pollNow().then(() => window.__pollNow()).then(() => true)`, nil)
	var after struct {
		Same, Focused bool
		Value         string
	}
	b.MustEval(`(() => { const s = `+sel+`; return { Same: !!s && s.__mark == 'mine',
		Focused: document.activeElement === s, Value: s ? s.value : '' }; })()`, &after)
	if !after.Same || !after.Focused || after.Value != "block" {
		t.Errorf("after two polls the PPTP dropdown is %+v, want the same element, focused, still 'block'", after)
	}
	if n := f.count("vpnpass.status") - status; n != 2 {
		t.Errorf("two polls made %d status calls", n)
	}
	if f.count("vpnpass.doctor") != doctor || f.count("vpnpass.history") != history {
		t.Error("the poll asked the doctor or the history (each call starts a process on the router)")
	}
	checkCommon(t, b)
}

// TestReadOnlyLogin: a login holding only the read half of the app's ACL
// sees the status and every control disabled (form.Map asks rpcd's
// session access; the footer follows the map), and the page never tries a
// write.
func TestReadOnlyLogin(t *testing.T) {
	cdp.FindChromium(t)
	backend, _ := fixtureBackend(t)
	ln, err := localListen()
	if err != nil {
		t.Fatal(err)
	}
	f := startFront(t, ln, backend, "")
	acl := filepath.Join(t.TempDir(), "viewer.json")
	var full map[string]map[string]json.RawMessage
	raw, err := os.ReadFile(aclFile)
	if err != nil || json.Unmarshal(raw, &full) != nil {
		t.Fatalf("ACL: %v", err)
	}
	viewer, _ := json.Marshal(map[string]any{"luci-app-vpnpass": map[string]any{"read": full["luci-app-vpnpass"]["read"]}})
	if err := os.WriteFile(acl, viewer, 0o644); err != nil {
		t.Fatal(err)
	}
	f.srv.logins["viewer"] = login{password: "pw", acl: acl, group: "luci-app-vpnpass"}
	sid := f.login(t, "viewer", "pw")

	b := startBrowser(t, "en", (*exec.Cmd).Start)
	b.open(f.url + "/?lang=en&sid=" + sid)
	checkVerdicts(t, b, fixtureStatus(t))
	var controls struct{ All, Disabled, Buttons, ButtonsDisabled int }
	b.MustEval(`(() => { const c = Array.from(document.querySelectorAll('#cbi-vpnpass select, #cbi-vpnpass input'));
		const btn = Array.from(document.querySelectorAll('.cbi-page-actions button'));
		return { All: c.length, Disabled: c.filter((e) => e.disabled).length,
			Buttons: btn.length, ButtonsDisabled: btn.filter((e) => e.disabled).length }; })()`, &controls)
	if controls.All < 8 || controls.Disabled != controls.All || controls.Buttons == 0 || controls.ButtonsDisabled != controls.Buttons {
		t.Errorf("read-only login: %+v, want every control and button disabled", controls)
	}
	if f.count("vpnpass.set")+f.count("uci.set") > 0 {
		t.Error("the read-only page tried to write")
	}
	checkCommon(t, b)
}

// TestFailuresNamed: a missing plugin, a denied call, a call that never
// answers and a stopped service each read differently, in English and
// Japanese; the page keeps working.
func TestFailuresNamed(t *testing.T) {
	cdp.FindChromium(t)
	fixture, _ := fixtureBackend(t)
	var stopped bool
	var mu sync.Mutex
	backend := func(method string, params json.RawMessage) (json.RawMessage, error) {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return json.RawMessage(`{"error":{"code":"not_available","message":"the vpnpass daemon is not running"}}`), nil
		}
		return fixture(method, params)
	}
	ln, err := localListen()
	if err != nil {
		t.Fatal(err)
	}
	f := startFront(t, ln, backend, "")
	texts := map[string]map[string]string{}
	for _, lang := range []string{"en", "ja"} {
		b := startBrowser(t, lang, (*exec.Cmd).Start)
		texts[lang] = map[string]string{}
		for _, kind := range []string{"missing", "denied", "hang", "stopped"} {
			mu.Lock()
			stopped = kind == "stopped"
			mu.Unlock()
			fault := kind
			if kind == "stopped" {
				fault = "" // the plugin answers: the agent is down
			}
			f.setFault(fault)
			b.open(f.url + "/?rpctimeout=2&lang=" + lang)
			want := map[string]string{"hang": "timeout"}[kind]
			if want == "" {
				want = kind
			}
			b.WaitFor(kind+" named", `!!document.querySelector('#vpnpass-notice [data-failure=`+want+`]')`, 10*time.Second)
			var text string
			b.MustEval(`document.querySelector('#vpnpass-notice strong').textContent`, &text)
			texts[lang][kind] = text
			checkCommon(t, b)
		}
		f.setFault("")
	}
	for _, lang := range []string{"en", "ja"} {
		seen := map[string]string{}
		for kind, text := range texts[lang] {
			if other, dup := seen[text]; dup {
				t.Errorf("%s: %s and %s read the same: %q", lang, kind, other, text)
			}
			seen[text] = kind
			if lang == "ja" && text == texts["en"][kind] {
				t.Errorf("%s is not translated: %q", kind, text)
			}
		}
	}
}

// fixtureStatus is the recorded status the fixture backend answers.
func fixtureStatus(t *testing.T) statusJSON {
	t.Helper()
	var st statusJSON
	b, err := os.ReadFile(filepath.Join("testdata", "status-fw4-locked.json"))
	if err != nil || json.Unmarshal(b, &st) != nil {
		t.Fatalf("status fixture: %v", err)
	}
	return st
}
