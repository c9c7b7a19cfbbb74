package openwrt

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/diagnose"
	"github.com/vpnpass/vpnpass/test/cdp"
	"github.com/vpnpass/vpnpass/test/lab"
)

// gotoTab opens one of the app's tabs (menu.d children of pagePath) in the
// logged-in browser and waits until LuCI rendered it.
func gotoTab(b *browser, w *Web, tab, ready string) {
	b.t.Helper()
	b.Navigate(w.url + pagePath + "/" + tab)
	b.WaitFor("the "+tab+" tab", `!!document.getElementById('vpnpass') && !document.querySelector('#view > .spinning') && (`+ready+`)`, 30*time.Second)
}

// TestLuCIRealTabs drives the devices, tools and history tabs and the
// Status overview include on LuCI's real runtime against real uhttpd,
// rpcd and the agent, as admin, in English and Japanese, with screenshots
// at desktop and phone width.
func TestLuCIRealTabs(t *testing.T) {
	cdp.FindChromium(t)
	l, r, w := luciWrt(t, luciOpts{})
	// a LAN device tries IPsec (dropped by the locked-down fw4): the agent sees its session
	ikePasses(l)
	dir := cdp.ArtifactsDir(t)
	b := openPage(t, l, w, "admin", adminPassword, "en")
	shot := func(b *browser, name string) {
		checkClean(t, b)
		b.Screenshot(filepath.Join(dir, "luci-real-"+name+".png"), 1200)
		b.Screenshot(filepath.Join(dir, "luci-real-"+name+"-phone.png"), 375)
	}

	var tabs []string
	b.MustEval(`Array.from(document.querySelectorAll('.tabs a, .cbi-tabmenu a')).map((a) => a.getAttribute('href'))`, &tabs)
	if joined := strings.Join(tabs, " "); !strings.Contains(joined, "vpnpass/hosts") || !strings.Contains(joined, "vpnpass/history") {
		t.Errorf("LuCI's tab menu shows %q, want the app's tabs", tabs)
	}

	host := lab.LANHost.String()
	b.Navigate(w.url + pagePath + "/hosts")
	b.WaitFor("the LAN device in the list", `!!document.querySelector('#vpnpass-host option[value="`+host+`"]')`, 40*time.Second)
	b.WaitFor("its session", `!!document.querySelector('.vpnpass-host[data-host="`+host+`"] .vpnpass-session[data-protocol=ipsec]')`, 10*time.Second)
	shot(b, "hosts-en")

	gotoTab(b, w, "tools", `!!document.getElementById('vpnpass-probe-run')`)
	b.MustEval(`(() => { document.getElementById('vpnpass-probe-host').value = '`+lab.Server.String()+`';
		document.getElementById('vpnpass-probe-protocol').value = 'pptp';
		document.getElementById('vpnpass-probe-run').click(); return true; })()`, nil)
	b.WaitFor("the probe's result", `document.querySelectorAll('.vpnpass-probe-result').length > 0 || !!document.querySelector('.vpnpass-probe [data-failure]')`, 30*time.Second)
	var probe []struct{ Outcome, Meaning string }
	b.MustEval(`Array.from(document.querySelectorAll('.vpnpass-probe-result')).map((r) => ({ Outcome: r.dataset.outcome, Meaning: r.querySelector('.vpnpass-probe-meaning').textContent }))`, &probe)
	meaning := map[string]string{}
	for _, o := range diagnose.ProbeOutcome {
		meaning[o.Outcome] = o.Text
	}
	if len(probe) != 1 || meaning[probe[0].Outcome] == "" || !strings.HasPrefix(probe[0].Meaning, meaning[probe[0].Outcome]) {
		t.Errorf("probe of PPTP on %s: %+v, want one port with the catalog's explanation", lab.Server, probe)
	}
	b.MustEval(`(() => { document.getElementById('vpnpass-explain-what').value = 'udp/500';
		document.getElementById('vpnpass-explain-dst').value = '`+lab.Server.String()+`';
		document.getElementById('vpnpass-explain-run').click(); return true; })()`, nil)
	b.WaitFor("the explained path", `!!document.querySelector('.vpnpass-explain') || !!document.querySelector('#vpnpass-explain-result [data-failure]')`, 20*time.Second)
	var ex struct {
		Verdict         string
		Steps, Deciding int
	}
	b.MustEval(`({ Verdict: (document.querySelector('.vpnpass-explain') || { dataset: {} }).dataset.verdict || '',
		Steps: document.querySelectorAll('.vpnpass-step').length, Deciding: document.querySelectorAll('.vpnpass-step[data-deciding]').length })`, &ex)
	if ex.Verdict != "drop" && ex.Verdict != "reject" || ex.Steps == 0 || ex.Deciding != 1 {
		t.Errorf("explain IKE to %s on the locked-down fw4: %+v, want dropped, its path, one deciding step", lab.Server, ex)
	}
	shot(b, "tools-en")

	gotoTab(b, w, "history", `!!document.querySelector('#vpnpass-history-table tr[data-seq], #vpnpass-history [data-failure]')`)
	checkRealHistory(t, b)
	shot(b, "history-en")

	checkRealInclude(t, b)

	j := openPage(t, l, w, "admin", adminPassword, "ja")
	gotoTab(j, w, "tools", `!!document.getElementById('vpnpass-probe-run')`)
	var title string
	j.MustEval(`document.querySelector('#vpnpass-probe h3').textContent`, &title)
	if title != "VPN サーバーをプローブ" {
		t.Errorf("Japanese tools tab: %q", title)
	}
	shot(j, "tools-ja")
	gotoTab(j, w, "history", `!!document.querySelector('#vpnpass-history-table tr[data-seq]')`)
	shot(j, "history-ja")
	checkPhoneWidth(t, j, "history (ja, bootstrap)")

	checkTheme2020(t, r, w, j)
}

// checkTheme2020 shows every tab in LuCI's openwrt-2020 theme (its files
// fetched into the LuCI root; docs/openwrt-testing.md), in Japanese, at
// desktop and phone width.
func checkTheme2020(t *testing.T, r *Router, w *Web, b *browser) {
	t.Helper()
	root, _ := Userland(t)
	for _, f := range []string{"www/luci-static/openwrt2020/cascade.css", "www/luci-static/resources/menu-openwrt2020.js"} {
		if _, err := os.Stat(filepath.Join(luciRoot(t, root), f)); err != nil {
			t.Skipf("no openwrt-2020 theme in the LuCI root (%v): docs/openwrt-testing.md says how to add it", err)
		}
	}
	copyTree(t, filepath.Join(luciRoot(t, root), "www/luci-static/openwrt2020"), filepath.Join(r.work, "tmp/www/luci-static"))
	copyTree(t, filepath.Join(luciRoot(t, root), "www/luci-static/resources/menu-openwrt2020.js"), filepath.Join(r.work, "tmp/www/luci-static/resources"))
	if out, err := r.Run("", "sh", "-c", "uci set luci.main.mediaurlbase=/luci-static/openwrt2020 && uci commit luci"); err != nil {
		t.Fatalf("uci: %v %s", err, out)
	}
	dir := cdp.ArtifactsDir(t)
	for _, tab := range []struct{ name, ready string }{
		{"overview", `document.querySelectorAll('[data-protocol] .vpnpass-verdict').length == 3`},
		{"hosts", `!!document.getElementById('vpnpass-host')`},
		{"tools", `!!document.getElementById('vpnpass-probe-run')`},
		{"history", `!!document.querySelector('#vpnpass-history-table tr[data-seq]')`},
	} {
		gotoTab(b, w, tab.name, `!!document.querySelector('link[href*="openwrt2020"]') && `+tab.ready)
		checkClean(t, b)
		b.Screenshot(filepath.Join(dir, "luci-real-2020-"+tab.name+"-ja.png"), 1200)
		b.Screenshot(filepath.Join(dir, "luci-real-2020-"+tab.name+"-ja-phone.png"), 375)
		checkPhoneWidth(t, b, tab.name+" (ja, openwrt-2020)")
	}
}

// checkPhoneWidth: laid out 375 px wide (the last screenshot's width), the
// page does not scroll sideways.
func checkPhoneWidth(t *testing.T, b *browser, what string) {
	t.Helper()
	var w struct{ Scroll, Client int }
	b.MustEval(`({ Scroll: document.documentElement.scrollWidth, Client: document.documentElement.clientWidth })`, &w)
	if w.Scroll > w.Client+1 {
		var wide []string
		b.MustEval(`Array.from(document.querySelectorAll('#view *')).filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
			.map((e) => e.tagName + '#' + e.id + '.' + e.className).slice(0, 6)`, &wide)
		t.Errorf("%s at 375 px: %d px wide, wider: %q", what, w.Scroll, wide)
	}
}

// checkRealHistory: the events come through rpcd's signature with the
// new params (kind, before) and page as the agent pages them.
func checkRealHistory(t *testing.T, b *browser) {
	t.Helper()
	var seqs []int
	b.MustEval(`Array.from(document.querySelectorAll('#vpnpass-history-table tr[data-seq]')).map((r) => +r.dataset.seq)`, &seqs)
	if len(seqs) == 0 {
		t.Fatal("no history events on the real router")
	}
	var page []int
	b.MustEval(`L.require('vpnpass.common').then((vc) => vc.calls.history('', 50, undefined, undefined, undefined, `+jsInt(seqs[0])+`))
		.then((r) => (r.events || []).map((e) => e.seq))`, &page)
	for _, s := range page {
		if s >= seqs[0] {
			t.Errorf("history before %d through rpcd answered seq %d", seqs[0], s)
		}
	}
	if len(page) != len(seqs)-1 {
		t.Errorf("history before %d: %v, the page shows %v", seqs[0], page, seqs)
	}
	b.MustEval(`(() => { document.getElementById('vpnpass-history-kind').value = 'agent.';
		document.getElementById('vpnpass-history-refresh').click(); return true; })()`, nil)
	b.WaitFor("agent events only", `Array.from(document.querySelectorAll('#vpnpass-history-table tr[data-kind]')).every((r) => r.dataset.kind.indexOf('agent.') == 0)`, 10*time.Second)
}

func jsInt(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// checkRealInclude mounts the Status overview include as status/index.js
// does (L.require, load, render) on the real runtime.
func checkRealInclude(t *testing.T, b *browser) {
	t.Helper()
	var rows []string
	b.MustEval(`L.require('view.status.include.70_vpnpass').then((inc) => Promise.resolve(inc.load()).then((d) => inc.render(d)).then((node) => {
		document.getElementById('view').prepend(E('div', { 'class': 'cbi-section' }, [ E('h3', {}, [ inc.title ]), node ]));
		return Array.from(node.querySelectorAll('tr')).map((r) => r.dataset.protocol || 'nat');
	}))`, &rows)
	if strings.Join(rows, " ") != "pptp l2tp ipsec nat" {
		t.Errorf("status include rows %q", rows)
	}
	b.Screenshot(filepath.Join(cdp.ArtifactsDir(t), "luci-real-status-include.png"), 1200)
}

// TestLuCIRealTabsReadOnly: a read-only login sees every tab and explains a
// destination, but may not probe: the button is disabled and rpcd denies
// the call (probe is in the write half of the app's ACL).
func TestLuCIRealTabsReadOnly(t *testing.T) {
	cdp.FindChromium(t)
	l, _, w := luciWrt(t, luciOpts{})
	b := openPage(t, l, w, "viewer", viewerPassword, "en")
	gotoTab(b, w, "tools", `!!document.getElementById('vpnpass-probe-run')`)
	var ro struct{ Probe, Explain bool }
	b.MustEval(`({ Probe: document.getElementById('vpnpass-probe-run').disabled, Explain: document.getElementById('vpnpass-explain-run').disabled })`, &ro)
	if !ro.Probe || ro.Explain {
		t.Errorf("read-only tools tab: probe disabled %v, explain disabled %v; want only probe disabled", ro.Probe, ro.Explain)
	}
	var got string
	b.MustEval(`L.require('vpnpass.common').then((vc) => vc.calls.probe('`+lab.Server.String()+`', 'pptp')).then((r) => 'answered ' + JSON.stringify(r), (e) => String(e.message))`, &got)
	if !strings.Contains(got, "-32002") {
		t.Errorf("read-only probe: %s, want JSON-RPC error -32002", got)
	}
	for _, tab := range []string{"hosts", "history"} {
		gotoTab(b, w, tab, `!document.querySelector('[data-failure]') || true`)
		checkClean(t, b)
	}
	b.WaitFor("the history", `!!document.querySelector('#vpnpass-history-table tr[data-seq]')`, 10*time.Second)
}
