package luci

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/cdp"
	"github.com/vpnpass/vpnpass/test/lab"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// vpnpassBinary builds cmd/vpnpass once per test run.
func vpnpassBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vpnpass-luci-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "vpnpass")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/vpnpass/vpnpass/cmd/vpnpass").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

const agentConfig = `config agent 'main'
	option enabled '1'
	option backend 'auto'
	list lan_device 'br-lan'
	option history_path '%s/history.db'
	option history_persist_path '%[1]s/saved-history.db'
	option observe '0'
	option accounting '0'

config passthrough 'pptp'
	option mode 'default'

config passthrough 'l2tp'
	option mode 'default'

config passthrough 'ipsec'
	option mode 'default'
`

// labAgent is `vpnpass agent` running in the lab router, as procd runs it.
type labAgent struct {
	l                 *lab.Lab
	bin, conf, socket string
	cmd               *exec.Cmd
	log               *lab.Buffer
}

func startLabAgent(t *testing.T, l *lab.Lab) *labAgent {
	t.Helper()
	dir := t.TempDir()
	a := &labAgent{l: l, bin: vpnpassBinary(t), conf: filepath.Join(dir, "vpnpass"), socket: filepath.Join(dir, "vpnpass.sock"), log: &lab.Buffer{}}
	if err := os.WriteFile(a.conf, []byte(fmt.Sprintf(agentConfig, dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	a.cmd = l.Router.Command(a.bin, "agent", "--config", a.conf, "--socket", a.socket)
	a.cmd.Stdout, a.cmd.Stderr = a.log, a.log
	if err := l.Router.StartCmd(a.cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("agent log:\n%s", a.log.String())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := l.Router.Run(a.bin, "status", "--json", "--socket", a.socket, "--config", a.conf); err == nil {
			return a
		}
	}
	t.Fatalf("agent did not answer within 10 s\n%s", a.log.String())
	return nil
}

// rpcdCall runs the rpcd exec plugin as rpcd does on the router: `vpnpass
// rpcd call METHOD` with the params on stdin (the wrapper in
// /usr/libexec/rpcd only adds the path).
func (a *labAgent) rpcdCall(method string, params json.RawMessage) (json.RawMessage, error) {
	cmd := a.l.Router.Command(a.bin, "rpcd", "call", method, "--socket", a.socket)
	cmd.Stdin = bytes.NewReader(params)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := a.l.Router.RunCmd(cmd); err != nil {
		return nil, err
	}
	if !json.Valid(out.Bytes()) || !bytes.HasPrefix(bytes.TrimSpace(out.Bytes()), []byte("{")) {
		return nil, fmt.Errorf("rpcd call %s printed no JSON object: %q", method, out.String())
	}
	return out.Bytes(), nil
}

type statusJSON struct {
	Protocols map[string]struct {
		Mode, Verdict string
		Elements      []struct {
			Family    string
			Verdict   string
			DecidedBy map[string]any `json:"decided_by"`
		}
	}
	WAN struct{ Code string } `json:"wan"`
}

func (a *labAgent) status(t *testing.T) statusJSON {
	t.Helper()
	out, err := a.rpcdCall("status", json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var s statusJSON
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func ikePasses(l *lab.Lab) bool {
	_, _, err := lab.UDPExchange(l.LAN, netip.AddrPortFrom(lab.Server, 500), []byte("ike?"), 700*time.Millisecond)
	return err == nil
}

// TestLuCIOnLabRouter drives the LuCI page in headless Chromium against a
// real agent in a lab router whose fw4 is locked down: the page shows the
// router's own verdicts, switching IPsec to allow in the page lets a LAN
// client's IKE through, the history filter works, the Japanese catalog
// renders, and a stopped daemon is reported instead of breaking the page.
// Chromium and the test's web server live in the LAN host's namespace, so
// the browser can reach nothing but them.
func TestLuCIOnLabRouter(t *testing.T) {
	lab.Require(t)
	cdp.FindChromium(t)
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FW4Locked}})
	echo, err := l.Inet.ServeUDPEcho(netip.AddrPortFrom(lab.Server, 500))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { echo.Close() })
	a := startLabAgent(t, l)
	if ikePasses(l) {
		t.Fatal("IKE passes the locked-down fw4 before anything was allowed")
	}
	artifacts := cdp.ArtifactsDir(t)
	listen := func() (ln net.Listener, err error) {
		err = l.LAN.Do(func() (err error) { ln, err = net.Listen("tcp", "127.0.0.1:0"); return err })
		return ln, err
	}

	ln, err := listen()
	if err != nil {
		t.Fatal(err)
	}
	f := startFront(t, ln, a.rpcdCall, a.conf)
	// rpcd's uci apply ends in procd's reload trigger: reload_service HUPs the agent
	f.onApply = func() {
		if err := a.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Errorf("SIGHUP: %v", err)
		}
	}
	b := startBrowser(t, "en", l.LAN.StartCmd)
	b.open(f.url + "/?lang=en")
	before := a.status(t)
	checkVerdicts(t, b, before)
	checkDoctor(t, b, a)
	checkCommon(t, b)

	// Save & Apply with rollback: the form writes the UCI package, apply
	// commits it, the agent's reload applies it, the page reloads.
	b.MustEval(`(() => { const s = document.getElementById('widget.cbid.vpnpass.main.mode_ipsec'); s.value = 'allow';
		s.dispatchEvent(new Event('change', { bubbles: true }));
		document.querySelector('.cbi-page-actions .cbi-button-apply').click(); return true; })()`, nil)
	b.WaitFor("IPsec passing after Save & Apply", `document.body.dataset.viewReady == '1' &&
		(document.querySelector('[data-protocol=ipsec] .vpnpass-verdict') || {dataset: {}}).dataset.verdict == 'accept'`, 30*time.Second)
	if got := f.committed("ipsec", "mode"); got != "allow" {
		t.Errorf("config file: ipsec mode %q after Save & Apply", got)
	}
	if n := f.count("vpnpass.set"); n != 0 {
		t.Errorf("the page called ubus set %d times; modes go through Save & Apply", n)
	}
	after := a.status(t)
	if p := after.Protocols["ipsec"]; p.Mode != "allow" || p.Verdict != "accept" {
		t.Errorf("agent says ipsec %+v after Save & Apply", p)
	}
	if !ikePasses(l) {
		t.Error("a LAN client's IKE (UDP 500 to 203.0.113.10) does not pass after allowing IPsec in the page")
	}
	checkVerdicts(t, b, after)
	var sel string
	b.MustEval(`document.getElementById('widget.cbid.vpnpass.main.mode_ipsec').value`, &sel)
	if sel != "allow" {
		t.Errorf("the reloaded form shows ipsec %q", sel)
	}

	b.open(f.url + "/?view=vpnpass/history&lang=en")
	b.MustEval(`(() => { document.getElementById('vpnpass-history-kind').value = 'passthrough.';
		document.getElementById('vpnpass-history-refresh').click(); return true; })()`, nil)
	b.WaitFor("the passthrough history", `(() => { const r = document.querySelectorAll('#vpnpass-history-table tr[data-kind]');
		return r.length > 0 && Array.from(r).every((e) => e.dataset.kind == 'passthrough.changed'); })()`, 10*time.Second)
	var row string
	b.MustEval(`document.querySelector('#vpnpass-history-table tr[data-kind]').textContent`, &row)
	// Save & Apply reaches the agent as a uci change: the history says so
	if !strings.Contains(row, "IPsec passthrough: Firewall decides (default) → Allow passthrough") ||
		!strings.Contains(row, "by a settings change (Save & Apply or uci)") {
		t.Errorf("newest passthrough event reads %q", row)
	}
	b.Screenshot(filepath.Join(artifacts, "luci-lab-history-en.png"), 1200)

	j := startBrowser(t, "ja", l.LAN.StartCmd)
	j.open(f.url + "/?lang=ja")
	checkVerdicts(t, j, after)
	var ja struct{ Title, Verdict, Mode string }
	j.MustEval(`({ Title: document.querySelector('#vpnpass h2').textContent,
		Verdict: document.querySelector('[data-protocol=ipsec] .vpnpass-verdict').textContent,
		Mode: (() => { const s = document.getElementById('widget.cbid.vpnpass.main.mode_ipsec'); return s.options[s.selectedIndex].textContent; })() })`, &ja)
	if ja.Title != "VPN パススルー" || ja.Verdict != "通過" || ja.Mode != "パススルーを許可" {
		t.Errorf("Japanese page: %+v", ja)
	}
	j.Screenshot(filepath.Join(artifacts, "luci-lab-ja.png"), 1200)

	stopAgent(t, a)
	b.Navigate(f.url + "/?lang=en")
	b.WaitFor("the daemon-down notice", `document.body.dataset.viewReady == '1' &&
		!!document.querySelector('#vpnpass-notice [data-failure=stopped]')`, 20*time.Second)
	checkCommon(t, b)
}

// checkVerdicts: each protocol's verdict in the page is the agent's, and
// the deciding rule shown is the one the agent names.
func checkVerdicts(t *testing.T, b *browser, st statusJSON) {
	t.Helper()
	b.WaitFor("the verdicts", `document.querySelectorAll('[data-protocol] .vpnpass-verdict').length == 3`, 20*time.Second)
	var page map[string]struct{ Verdict, Rule string }
	b.MustEval(`Object.fromEntries(Array.from(document.querySelectorAll('tr[data-protocol]')).map((r) => [ r.dataset.protocol,
		{ Verdict: r.querySelector('.vpnpass-verdict').dataset.verdict, Rule: r.querySelector('.vpnpass-rule').textContent } ]))`, &page)
	for name, p := range st.Protocols {
		got := page[name]
		if got.Verdict != p.Verdict {
			t.Errorf("%s: page shows %q, agent says %q", name, got.Verdict, p.Verdict)
		}
		for _, e := range p.Elements {
			if e.Family != "ipv4" || e.Verdict != p.Verdict {
				continue
			}
			if chain, _ := e.DecidedBy["chain"].(string); !strings.Contains(got.Rule, chain) {
				t.Errorf("%s: page names %q, agent's deciding chain is %q", name, got.Rule, chain)
			}
			break
		}
	}
	var code string
	b.MustEval(`document.querySelector('.vpnpass-nat').dataset.code`, &code)
	if code != st.WAN.Code {
		t.Errorf("NAT verdict in the page %q, agent %q", code, st.WAN.Code)
	}
}

// checkDoctor: the page shows what the doctor answers: its findings, or a
// note while the agent has no doctor yet.
func checkDoctor(t *testing.T, b *browser, a *labAgent) {
	t.Helper()
	out, err := a.rpcdCall("doctor", json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Findings []json.RawMessage
		Error    *struct{ Code string }
	}
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatal(err)
	}
	var missing bool
	var shown int
	b.MustEval(`!!document.querySelector('.vpnpass-doctor-missing')`, &missing)
	b.MustEval(`document.querySelectorAll('.vpnpass-finding').length`, &shown)
	switch {
	case d.Error != nil && d.Error.Code == "not_available":
		if !missing {
			t.Error("doctor is not available, the page does not say so")
		}
	case d.Error == nil && shown != len(d.Findings):
		t.Errorf("page shows %d findings, doctor has %d", shown, len(d.Findings))
	}
}

func stopAgent(t *testing.T, a *labAgent) {
	t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("agent did not stop\n%s", a.log.String())
	}
}
