package luci

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/diagnose"
	"github.com/vpnpass/vpnpass/test/cdp"
)

// TestTabs drives every tab of the app and the Status overview include on
// the stand-in runtime, in English and Japanese, with screenshots at
// desktop and phone width (375 px) as artifacts.
func TestTabs(t *testing.T) {
	cdp.FindChromium(t)
	tb := newTabsBackend(t)
	ln, err := localListen()
	if err != nil {
		t.Fatal(err)
	}
	f := startFront(t, ln, tb.call, "")
	dir := cdp.ArtifactsDir(t)
	// one browser for both languages: the stand-in takes the page's
	// language from the URL, as LuCI takes it from the session
	b := startBrowser(t, "en", (*exec.Cmd).Start)
	for _, lang := range []string{"en", "ja"} {
		shot := func(view string) {
			checkClean(t, b, lang, view)
			b.Screenshot(filepath.Join(dir, "luci-"+view+"-"+lang+".png"), 1200)
			b.Screenshot(filepath.Join(dir, "luci-"+view+"-"+lang+"-phone.png"), 375)
			checkNoOverflow(t, b, view)
		}
		b.open(f.url + "/?lang=" + lang)
		checkInbound(t, b, lang)
		shot("overview")

		b.open(f.url + "/?view=vpnpass/hosts&lang=" + lang)
		checkHosts(t, b, tb)
		shot("hosts")

		b.open(f.url + "/?view=vpnpass/tools&lang=" + lang)
		checkProbe(t, b, tb, lang)
		checkExplain(t, b, tb)
		shot("tools")

		b.open(f.url + "/?view=vpnpass/history&lang=" + lang)
		checkHistory(t, b, tb, lang)
		shot("history")

		b.open(f.url + "/?include=view/status/include/70_vpnpass&lang=" + lang)
		var rows []string
		b.MustEval(`Array.from(document.querySelectorAll('#vpnpass-status-include tr')).map((r) => r.dataset.protocol || 'nat:' + r.dataset.nat)`, &rows)
		if strings.Join(rows, " ") != "pptp l2tp ipsec nat:"+fixtureStatus(t).WAN.Code {
			t.Errorf("status include rows %q", rows)
		}
		shot("status-include")
	}
}

// checkNoOverflow: at phone width nothing makes the page scroll sideways.
func checkNoOverflow(t *testing.T, b *browser, view string) {
	t.Helper()
	var wide []string
	b.MustEval(`Array.from(document.querySelectorAll('#view *')).filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
		.map((e) => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5)`, &wide)
	if len(wide) > 0 {
		t.Errorf("%s at phone width: wider than the screen: %q", view, wide)
	}
}

func checkInbound(t *testing.T, b *browser, lang string) {
	t.Helper()
	var rows []struct{ Protocol, Server, Code, Verdict, Msg, Advice string }
	b.MustEval(`Array.from(document.querySelectorAll('tr.vpnpass-inbound')).map((r) => ({ Protocol: r.dataset.protocol,
		Server: r.dataset.server, Code: r.dataset.code, Verdict: r.querySelector('.vpnpass-verdict').dataset.verdict,
		Msg: (r.querySelector('.vpnpass-inbound-message') || {}).textContent || '', Advice: r.querySelector('.vpnpass-advice').textContent }))`, &rows)
	if len(rows) != 2 || rows[0].Server != "192.168.1.20" || rows[0].Verdict != "drop" || rows[1].Verdict != "accept" {
		t.Fatalf("inbound rows %+v", rows)
	}
	// the code has a catalog entry: the text is the translated template
	// filled from params, never a template with holes
	if strings.Contains(rows[0].Msg+rows[0].Advice, "{") || !strings.Contains(rows[0].Msg, "198.51.100.7") ||
		(lang == "ja" && !strings.Contains(rows[0].Msg, "クライアント")) {
		t.Errorf("the inbound finding must read as the catalog's %s text, filled in: %+v", lang, rows[0])
	}
}

func checkHosts(t *testing.T, b *browser, tb *tabsBackend) {
	t.Helper()
	var opts []string
	b.MustEval(`Array.from(document.querySelectorAll('#vpnpass-host option')).map((o) => o.value + '=' + o.textContent)`, &opts)
	if len(opts) != 2 || opts[0] != "192.168.1.10=laptop (192.168.1.10, 02:00:00:00:00:10)" || !strings.HasPrefix(opts[1], "192.168.1.11=phone") {
		t.Errorf("device list %q (the router's own session must not be a device)", opts)
	}
	var codes []string
	b.MustEval(`Array.from(document.querySelectorAll('#vpnpass-host-result .vpnpass-finding')).map((e) => e.dataset.code + '/' + e.querySelector('.label').className)`, &codes)
	if len(codes) != 1 || !strings.HasPrefix(codes[0], "vpn-ok/") || !strings.Contains(codes[0], "success") {
		t.Errorf("the laptop's findings %q, want its working VPN (vpn-ok, shown as success)", codes)
	}
	b.MustEval(`(() => { const s = document.getElementById('vpnpass-host'); s.value = '192.168.1.11';
		s.dispatchEvent(new Event('change')); return true; })()`, nil)
	b.WaitFor("the phone's diagnosis", `!!document.querySelector('.vpnpass-host[data-host="192.168.1.11"] .vpnpass-finding[data-code=natt-blocked]')`, 10e9)
	if p := tb.last("doctor"); p["host"] != "192.168.1.11" {
		t.Errorf("choosing the phone asked the doctor %v", p)
	}
	n := tb.count("doctor")
	b.MustEval(`(() => { document.getElementById('vpnpass-host-result').textContent = ''; return true; })()`, nil)
	b.click("vpnpass-host-test", "test again", `!!document.querySelector('.vpnpass-session')`)
	if tb.count("doctor") != n+1 {
		t.Error("Test again did not ask the doctor again")
	}
}

func checkProbe(t *testing.T, b *browser, tb *tabsBackend, lang string) {
	t.Helper()
	b.MustEval(`(() => { document.getElementById('vpnpass-probe-host').value = '203.0.113.10'; return true; })()`, nil)
	b.click("vpnpass-probe-run", "a probe", `document.querySelectorAll('.vpnpass-probe').length == 1`)
	if p := tb.last("probe"); p["host"] != "203.0.113.10" || p["protocol"] != nil {
		t.Errorf("probe params %v, want the host and no protocol (all)", p)
	}
	var res []struct{ Port, Outcome, Meaning string }
	b.MustEval(`Array.from(document.querySelectorAll('.vpnpass-probe-result')).map((r) => ({ Port: r.dataset.port, Outcome: r.dataset.outcome,
		Meaning: r.querySelector('.vpnpass-probe-meaning').textContent }))`, &res)
	if len(res) != 4 || res[0].Outcome != "answered" || res[2].Outcome != "refused" {
		t.Fatalf("probe rows %+v", res)
	}
	if lang == "en" {
		want := map[string]string{}
		for _, o := range diagnose.ProbeOutcome {
			want[o.Outcome] = o.Text
		}
		if res[1].Meaning != want["silent"] || res[0].Meaning != want["answered"]+" (IKE_SA_INIT answered with NO_PROPOSAL_CHOSEN)" {
			t.Errorf("probe explanations %+v, want the catalog's (the CLI's)", res)
		}
	}
	b.MustEval(`(() => { document.getElementById('vpnpass-probe-protocol').value = 'ipsec'; return true; })()`, nil)
	b.click("vpnpass-probe-run", "a second probe kept with the first", `document.querySelectorAll('.vpnpass-probe').length == 2`)
	if p := tb.last("probe"); p["protocol"] != "ipsec" {
		t.Errorf("probe params %v", p)
	}
	b.click("vpnpass-probe-clear", "cleared results", `document.querySelectorAll('.vpnpass-probe').length == 0`)
}

func checkExplain(t *testing.T, b *browser, tb *tabsBackend) {
	t.Helper()
	b.MustEval(`(() => { document.getElementById('vpnpass-explain-what').value = 'esp';
		document.getElementById('vpnpass-explain-dst').value = '203.0.113.10'; return true; })()`, nil)
	b.click("vpnpass-explain-run", "the path", `document.querySelectorAll('.vpnpass-step').length == 3`)
	if p := tb.last("explain"); p["proto"] != "esp" || p["dst"] != "203.0.113.10" || p["dport"] != nil {
		t.Errorf("explain params %v", p)
	}
	var steps []struct{ Deciding, Link string }
	b.MustEval(`Array.from(document.querySelectorAll('.vpnpass-step')).map((r) => ({ Deciding: r.dataset.deciding || '',
		Link: (r.querySelector('a.vpnpass-rule-link') || {}).href || '' }))`, &steps)
	for i, s := range steps {
		deciding := i == 2
		if (s.Deciding == "1") != deciding {
			t.Errorf("step %d highlighted=%v, want %v", i, s.Deciding == "1", deciding)
		}
		// only the rule made from the UCI rule "Block-ESP" links; fw4's own do not
		if (s.Link != "") != deciding || (deciding && !strings.HasSuffix(s.Link, "/cgi-bin/luci/admin/network/firewall/rules")) {
			t.Errorf("step %d link %q", i, s.Link)
		}
	}
}

func checkHistory(t *testing.T, b *browser, tb *tabsBackend, lang string) {
	t.Helper()
	seqs := func() []int {
		var s []int
		b.MustEval(`Array.from(document.querySelectorAll('#vpnpass-history-table tr[data-seq]')).map((r) => +r.dataset.seq)`, &s)
		return s
	}
	if s := seqs(); len(s) != 50 || s[0] != 120 || s[49] != 71 {
		t.Fatalf("first page %v", s)
	}
	checkClean(t, b, lang, "history, every kind")
	b.click("vpnpass-history-older", "page 2", `document.querySelector('#vpnpass-history-table tr[data-seq]').dataset.seq == '70'`)
	if p := tb.last("history"); p["before"] != 71.0 || p["limit"] != 50.0 {
		t.Errorf("older asked %v, want before 71", p)
	}
	b.click("vpnpass-history-newer", "page 1 again", `document.querySelector('#vpnpass-history-table tr[data-seq]').dataset.seq == '120'`)
	b.MustEval(`(() => { document.getElementById('vpnpass-history-protocol').value = 'pptp';
		document.getElementById('vpnpass-history-kind').value = 'passthrough.'; return true; })()`, nil)
	b.click("vpnpass-history-refresh", "pptp changes", `document.querySelector('#vpnpass-history-table tr[data-seq]').dataset.seq == '120' &&
		Array.from(document.querySelectorAll('#vpnpass-history-table tr[data-kind]')).every((r) => r.dataset.kind == 'passthrough.changed')`)
	if p := tb.last("history"); p["protocol"] != "pptp" || p["kind"] != "passthrough." || p["before"] != nil {
		t.Errorf("filter asked %v", p)
	}
	var by string
	b.MustEval(`document.querySelector('#vpnpass-history-table .vpnpass-origin').textContent`, &by)
	if lang == "en" && by != "in LuCI or remote management, by the login admin" {
		t.Errorf("who made the change: %q", by)
	}
	if !strings.Contains(by, "admin") {
		t.Errorf("who made the change: %q", by)
	}
	b.MustEval(`(() => { window.__export = null; const a = document.getElementById('vpnpass-history-download');
		a.addEventListener('click', (ev) => { ev.preventDefault(); fetch(a.href).then((r) => r.text()).then((t) => { window.__export = t; }); }, { once: true });
		return true; })()`, nil)
	b.click("vpnpass-history-export", "the export", `window.__export != null`)
	var text string
	b.MustEval(`window.__export`, &text)
	var exp struct {
		Filters map[string]any
		Events  []struct{ Kind, Protocol string }
	}
	if err := json.Unmarshal([]byte(text), &exp); err != nil || len(exp.Events) != 40 || exp.Filters["protocol"] != "pptp" {
		t.Errorf("export: %v, %d events, filters %v; want the 40 pptp changes", err, len(exp.Events), exp.Filters)
	}
}
