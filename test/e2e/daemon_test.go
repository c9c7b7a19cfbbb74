package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// TestAgentLifecycle drives a real agent in a locked-down fw4 router: enable
// through the socket, survive a fw4 reload, follow a SIGHUP config edit,
// and leave nothing behind on SIGTERM.
func TestAgentLifecycle(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Double, Firewalls: []lab.Firewall{lab.FW4Locked}})
	serveUDP(t, l, 500, 4500, 1701)
	a := startAgent(t, l)

	if udpPasses(t, l, 500) {
		t.Fatal("UDP 500 passes before enable: the locked-down fw4 should reject it")
	}
	if out, err := a.cli("enable", "ipsec"); err != nil {
		t.Fatalf("enable ipsec: %v\n%s", err, out)
	}
	if !udpPasses(t, l, 500) || !udpPasses(t, l, 4500) {
		t.Fatal("IKE / NAT-T do not pass after `vpnpass enable ipsec`")
	}

	// A fw4 reload flushes and re-creates table inet fw4, dropping our rules
	// (the lab renders no include line here): the agent must repair within 1 s.
	if err := l.ReloadFW4(); err != nil {
		t.Fatal(err)
	}
	reloaded := time.Now()
	for !udpPasses(t, l, 500) {
		if time.Since(reloaded) > 3*time.Second {
			t.Fatal("IKE still blocked 3 s after a fw4 reload: drift not repaired")
		}
	}
	if took := time.Since(reloaded); took > time.Second+700*time.Millisecond {
		// The probe itself may wait up to 700 ms for an answer.
		t.Errorf("repair took %v, want within 1 s (+ probe time)", took)
	}
	if h := a.history(t, "firewall.drift_repaired"); len(h.Events) == 0 {
		t.Fatal("history has no firewall.drift_repaired event after the fw4 reload")
	}

	// Edit the config by hand and send SIGHUP (what procd's reload does).
	a.writeConfig(t, "default", "allow", "default")
	if err := a.cmd.Process.Signal(syscallHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for !(udpPasses(t, l, 1701) && !udpPasses(t, l, 500)) {
		if time.Now().After(deadline) {
			t.Fatal("after SIGHUP: want l2tp allowed and ipsec back to fw4's reject")
		}
	}
	if h := a.history(t, "passthrough."); len(h.Events) < 2 {
		t.Errorf("history has %d passthrough.changed events, want the API change and the reload", len(h.Events))
	}

	a.stop(t)
	if n := taggedRules(t, l); n != 0 {
		out, _ := l.Nft("list", "ruleset")
		t.Fatalf("%d vpnpass objects left after SIGTERM:\n%s", n, firstLines(string(out), 40))
	}
}

func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
