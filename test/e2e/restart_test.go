package e2e

import (
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// TestRestartKeepsRules reproduces OpenWrt's `/etc/init.d/vpnpass restart`
// as rc.common runs it where procd is not: stop sends SIGTERM and does not
// wait, service_stopped runs `vpnpass cleanup` at once, then start runs a
// new agent. Twenty times in a row, the router must end up with every rule
// of the configured modes and IPsec must pass. Before the run lock, the old
// agent's shutdown (or the cleanup) removed what the new agent installed.
func TestRestartKeepsRules(t *testing.T) {
	for _, fws := range [][]lab.Firewall{
		{lab.FW4Locked},
		// iptables is slow to change: the old agent's shutdown outlasts the
		// history's 1 s file lock, which hid the race on nftables alone.
		{lab.FW4Locked, lab.IptablesNftDrop},
		{lab.FW3Locked},
	} {
		t.Run(string(fws[len(fws)-1]), func(t *testing.T) { restartTwenty(t, fws) })
	}
}

func restartTwenty(t *testing.T, fws []lab.Firewall) {
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: fws})
	serveUDP(t, l, 500)
	a := startAgent(t, l, "allow", "block", "allow")
	want := taggedRules(t, l)
	if want == 0 || !udpPasses(t, l, 500) {
		t.Fatalf("first start: %d tagged objects, IKE passes %v", want, udpPasses(t, l, 500))
	}
	for i := 0; i < 20; i++ {
		old := a.cmd
		if err := old.Process.Signal(syscall.SIGTERM); err != nil { // stop: procd_kill
			t.Fatal(err)
		}
		start := time.Now()
		out, err := a.cli("cleanup") // service_stopped
		if err != nil {
			t.Fatalf("restart %d: cleanup: %v\n%s", i, err, out)
		}
		cleaned := time.Since(start)
		t0 := time.Now()
		a.start(t) // start
		t.Logf("restart %d: cleanup %v, new agent answered after %v", i, cleaned.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
		exited := waitExit(t, old)
		// The old agent is gone now: whatever its shutdown did is done.
		if got := taggedRules(t, l); got != want {
			t.Fatalf("restart %d: %d tagged objects after the restart, want %d (cleanup took %v, old agent exited %v)",
				i, got, want, cleaned.Round(time.Millisecond), exited)
		}
		if !udpPasses(t, l, 500) {
			t.Fatalf("restart %d: IKE no longer passes", i)
		}
	}
	a.stop(t)
	if n := taggedRules(t, l); n != 0 {
		t.Errorf("%d tagged objects after the final stop", n)
	}
}

// waitExit waits for a SIGTERMed agent and says whether it exited cleanly.
func waitExit(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return err.Error()
		}
		return "cleanly"
	case <-time.After(10 * time.Second):
		t.Fatal("old agent did not exit within 10 s of SIGTERM")
		return ""
	}
}
