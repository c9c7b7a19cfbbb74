package agent

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/logx"

	"github.com/vpnpass/vpnpass/agent/config"
	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/vpn"
)

// Private values the events below carry: none may leave the box by default.
var privateValues = []string{"192.168.1.23", "laptop-anna", "02:11:22:33:44:55", "198.51.100.7", "203.0.113.99"}

// fleetEvents are events as the daemon records them, full of private values.
func fleetEvents() []history.Event {
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	return []history.Event{
		{Time: at, Kind: history.KindVPNFinding, Severity: vpn.SeverityError, Protocol: "ipsec",
			Host: "192.168.1.23", Peer: "198.51.100.7",
			Message: "laptop-anna (192.168.1.23) sent IPsec NAT-T (UDP 4500) to 198.51.100.7 but nothing came back",
			Details: map[string]any{"code": "natt-blocked", "advice": "ask about 198.51.100.7",
				"params": map[string]any{"host_name": "laptop-anna", "host_mac": "02:11:22:33:44:55"}}},
		{Time: at, Kind: history.KindNATChanged, Severity: vpn.SeverityWarning, Message: "Double NAT: upstream 192.168.1.1",
			Details: map[string]any{"change": "nat.double", "code": "double-nat", "public_address": "203.0.113.99"}},
		{Time: at, Kind: history.KindFirewallDriftRepaired, Severity: vpn.SeverityWarning, Message: "put back",
			Details: map[string]any{"changes": 2, "protocols": []string{"ipsec"}}},
		{Time: at, Kind: history.KindPassthroughChanged, Severity: vpn.SeverityInfo, Protocol: "ipsec", Message: "ipsec: default → allow",
			Details: map[string]any{"from": "default", "to": "allow", "origin": "rpcd", "user": "isp"}},
	}
}

// fakeUbus puts a stand-in `ubus` first that appends its argv (one line,
// NUL-separated) to the returned file.
func fakeUbus(t *testing.T) string {
	dir := t.TempDir()
	out := filepath.Join(dir, "sent")
	script := "#!/bin/sh\nprintf '%s\\0' \"$@\" >> " + out + "\necho >> " + out + "\n"
	if err := os.WriteFile(filepath.Join(dir, "ubus"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	old := ubusCommand
	ubusCommand = filepath.Join(dir, "ubus")
	t.Cleanup(func() { ubusCommand = old })
	return out
}

// sentUbus reads what the stand-in received: argv per call.
func sentUbus(t *testing.T, path string) [][]string {
	b, _ := os.ReadFile(path)
	var out [][]string
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line != "" {
			out = append(out, strings.Split(strings.TrimSuffix(line, "\x00"), "\x00"))
		}
	}
	return out
}

// fleetDaemon is a daemon with only what recording needs, its log in buf.
func fleetDaemon(t *testing.T, share bool) (*Daemon, *bytes.Buffer) {
	buf := &bytes.Buffer{}
	d := &Daemon{log: logx.New(buf, logx.LevelInfo), limit: newLogLimiter(time.Minute), historyOpen: true, cfg: config.Defaults()}
	d.share.Store(share)
	d.fleet = newFleet(Options{Version: "1.2.3", Commit: "abc1234"}, func(err error) { t.Errorf("ubus send: %v", err) })
	d.fleet.start = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	return d, buf
}

// TestEventsKeepHostsByDefault: with share_hosts off (the default), the
// ubus events, log lines and metrics of events full of LAN addresses, host
// names, MACs and peers carry none of them, yet the kind and code; with
// share_hosts on, events and logs carry host and peer, metrics still not.
func TestEventsKeepHostsByDefault(t *testing.T) {
	for _, share := range []bool{false, true} {
		sent := fakeUbus(t)
		d, logs := fleetDaemon(t, share)
		for _, ev := range fleetEvents() {
			d.record(&ev)
		}
		d.fleet.ubus.close(5 * time.Second)
		calls := sentUbus(t, sent)
		if len(calls) != len(fleetEvents()) {
			t.Fatalf("share %v: %d ubus sends, want %d: %q", share, len(calls), len(fleetEvents()), calls)
		}
		var payloads []string
		for i, c := range calls {
			ev := fleetEvents()[i]
			if len(c) != 3 || c[0] != "send" || c[1] != "vpnpass."+ev.Kind {
				t.Fatalf("argv %q, want send vpnpass.%s JSON", c, ev.Kind)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(c[2]), &m); err != nil || m["kind"] != ev.Kind || m["severity"] != string(ev.Severity) {
				t.Errorf("payload %s: %v", c[2], err)
			}
			payloads = append(payloads, c[2])
		}
		out := strings.Join(payloads, "\n") + "\n" + logs.String()
		if !strings.Contains(out, `"code":"natt-blocked"`) || !strings.Contains(logs.String(), "kind=vpn.finding") ||
			!strings.Contains(logs.String(), "code=natt-blocked") || !strings.Contains(logs.String(), "code=double-nat") {
			t.Errorf("share %v: kind and code missing:\n%s", share, out)
		}
		for _, p := range privateValues {
			if strings.Contains(out, p) != (share && p != "203.0.113.99") {
				t.Errorf("share_hosts %v: %q present %v in events and logs:\n%s", share, p, !share, out)
			}
		}
		text := d.metricsText(time.Now())
		for _, p := range privateValues {
			if strings.Contains(text, p) {
				t.Errorf("share_hosts %v: metrics carry %q", share, p)
			}
		}
	}
}

// TestEventLogLine: one logfmt line per event, at the event's severity.
func TestEventLogLine(t *testing.T) {
	d, logs := fleetDaemon(t, false)
	d.fleet.ubus = nil
	d.record(&fleetEvents()[0])
	line := strings.TrimSpace(logs.String())
	if strings.Count(line, "\n") != 0 || !strings.Contains(line, "level=ERROR msg=event kind=vpn.finding severity=error protocol=ipsec code=natt-blocked") {
		t.Errorf("log line %q", line)
	}
}

// TestUbusRateLimit: a burst beyond ubusBurst is dropped and counted, and
// the next event that passes says how many were dropped.
func TestUbusRateLimit(t *testing.T) {
	sent := fakeUbus(t)
	d, _ := fleetDaemon(t, false)
	ev := fleetEvents()[2]
	for i := 0; i < ubusBurst+7; i++ {
		d.record(&ev)
	}
	d.fleet.ubus.gate.last = d.fleet.ubus.gate.last.Add(-time.Second) // a second later
	d.record(&ev)
	d.fleet.ubus.close(10 * time.Second)
	calls := sentUbus(t, sent)
	if len(calls) != ubusBurst+1 || d.fleet.ubus.dropped.Load() != 7 {
		t.Fatalf("%d sends, %d dropped; want %d and 7", len(calls), d.fleet.ubus.dropped.Load(), ubusBurst+1)
	}
	if last := calls[len(calls)-1][2]; !strings.Contains(last, `"dropped":7`) {
		t.Errorf("the event after the drop: %s", last)
	}
}

// TestNoUbusNoPublisher: without ubus on the box nothing is started.
func TestNoUbusNoPublisher(t *testing.T) {
	old := ubusCommand
	ubusCommand = filepath.Join(t.TempDir(), "ubus")
	defer func() { ubusCommand = old }()
	if p := newUbusPublisher(nil); p != nil {
		t.Errorf("publisher without ubus: %+v", p)
	}
}

// TestMetricsText: the exposition of known events (golden), which promtool
// accepts (its lint included).
func TestMetricsText(t *testing.T) {
	old := ubusCommand
	ubusCommand = filepath.Join(t.TempDir(), "ubus")
	defer func() { ubusCommand = old }()
	d, _ := fleetDaemon(t, false)
	for _, ev := range fleetEvents() {
		d.record(&ev)
	}
	d.fail("read the observer", os.ErrPermission)
	d.fail("read the observer", os.ErrPermission) // suppressed, still counted
	d.cfg.Modes["ipsec"] = "allow"
	text := d.metricsText(d.fleet.start.Add(90 * time.Second))
	golden := "testdata/metrics.prom"
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if text != string(want) {
		t.Errorf("metrics differ from %s (UPDATE_GOLDEN=1 rewrites it); got:\n%s", golden, text)
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool missing: build/deps.sh installs prometheus")
		}
		t.Skip("promtool not installed (build/deps.sh)")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestEarlyEventsWithoutHistory: events recorded before the history opens
// (a bad config line) are still counted and logged when the history cannot
// be opened at all.
func TestEarlyEventsWithoutHistory(t *testing.T) {
	old := ubusCommand
	ubusCommand = filepath.Join(t.TempDir(), "ubus")
	defer func() { ubusCommand = old }()
	d, logs := fleetDaemon(t, false)
	d.historyOpen = false
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d.cfg.HistoryPath = filepath.Join(blocker, "history.db") // under a file: cannot open
	d.record(&history.Event{Kind: history.KindConfigInvalid, Severity: vpn.SeverityWarning, Message: "bad option"})
	if got := d.fleet.events.Get(history.KindConfigInvalid); got != 0 {
		t.Fatalf("counted %d before the history opened, want 0 (it is replayed)", got)
	}
	d.openHistory()
	if got := d.fleet.events.Get(history.KindConfigInvalid); got != 1 || !strings.Contains(logs.String(), "kind=config.invalid") {
		t.Errorf("config.invalid counted %d times, log:\n%s", got, logs.String())
	}
}
