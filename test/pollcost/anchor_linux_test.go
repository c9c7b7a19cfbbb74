package pollcost

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// anchorBuffer is conntrack -E's socket buffer, as test/e2e's storm gives
// it: with the default it would lose events (ENOBUFS) and look cheaper than
// consuming the whole stream.
const anchorBuffer = "8388608"

// anchorCT is `conntrack -E` in the router, output to /dev/null, consuming
// the same conntrack burst as the agent: the anchor of the storm comparison
// where test/e2e's BenchmarkStorm cannot run (the VMs: no strongSwan, no
// iproute2). VPNPASS_POLL_CT_ANCHOR=1 starts it (test/bench-vm-anchor.sh).
type anchorCT struct {
	pid    int
	stderr *lab.Buffer
}

// startAnchorCT returns nil when the knob is off; it fails the test when the
// knob is on and conntrack is missing (the bench asked for the anchor).
func startAnchorCT(t *testing.T, l *lab.Lab) *anchorCT {
	t.Helper()
	if os.Getenv("VPNPASS_POLL_CT_ANCHOR") != "1" {
		return nil
	}
	if _, err := exec.LookPath("conntrack"); err != nil {
		t.Fatalf("VPNPASS_POLL_CT_ANCHOR=1: %v", err)
	}
	cmd := l.Router.Command("conntrack", "-E", "--buffer-size", anchorBuffer)
	a := &anchorCT{stderr: &lab.Buffer{}}
	cmd.Stdout, cmd.Stderr = nil, a.stderr // nil: /dev/null
	if err := l.Router.StartCmd(cmd); err != nil {
		t.Fatal(err)
	}
	a.pid = cmd.Process.Pid
	time.Sleep(time.Second) // subscribed before the burst (a slow VM)
	return a
}

func (a *anchorCT) cpu(t *testing.T) time.Duration {
	if a == nil {
		return 0
	}
	return procCPU(t, a.pid)
}

// words are the fields POLLCOST-CT gains: conntrack -E's CPU over the same
// window, per event, and its ENOBUFS warnings (events it lost). It stops
// the process (the lab reaps it).
func (a *anchorCT) words(t *testing.T, cpu time.Duration, events int) string {
	if a == nil {
		return ""
	}
	if p, err := os.FindProcess(a.pid); err == nil {
		_ = p.Kill()
	}
	return fmt.Sprintf(" anchor_cpu_ms=%.0f anchor_us_per_event=%.1f anchor_enobufs=%d",
		ms(cpu), float64(cpu.Microseconds())/float64(events), strings.Count(a.stderr.String(), "ENOBUFS"))
}
