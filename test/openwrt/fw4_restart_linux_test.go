package openwrt

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// procdRespawn is the init script's `respawn 3600 5 5`: procd starts a
// crashed instance again after 5 s.
const procdRespawn = 5 * time.Second

// TestRCRestartKeepsRules (issue 11 item 6): procd cannot run in the lab,
// so `/etc/init.d/vpnpass restart` is reproduced as rc.common does it: stop
// sends SIGTERM to the agent and returns at once, service_stopped runs
// `vpnpass cleanup` while the old agent may still be shutting down, then
// start runs a new agent (respawned by procd after 5 s if it exits). 20
// times; after each, once the old agent has exited, our rules must be
// there: tables, the include fw4 reads, new IKE flows accepted, and still
// after a `fw4 reload`.
func TestRCRestartKeepsRules(t *testing.T) { testRCRestart(t, false) }

// TestRCRestartHandsOver: our init script's restart() runs `vpnpass
// handover` before rc.common's stop and start. The stopping agent and
// service_stopped's cleanup then leave the rules in place and the new agent
// adopts them: no new IKE flow may be rejected during any restart.
func TestRCRestartHandsOver(t *testing.T) { testRCRestart(t, true) }

func testRCRestart(t *testing.T, handover bool) {
	r := newFW4Rig(t, "allow", "default", "allow")
	r.fw4("start")
	r.requireLocked()
	old := r.startAgent()
	if _, ok := r.waitPasses(500, 3*time.Second); !ok {
		t.Fatalf("IKE rejected with ipsec allow before the test starts\n%s", r.forwardChain())
	}
	s, err := startUDPStream(r.l, 4*time.Millisecond, 500)
	if err != nil {
		t.Fatal(err)
	}
	var rows []restartRow
	for i := 0; i < 20; i++ {
		// Four restarts in five, the old agent shuts down at a router's
		// pace (a MIPS 24Kc runs Go 10-40 times slower than this machine,
		// more when busy): its shutdown then overlaps the new agent's start.
		slow := []int{1, 10, 40, 100, 200}[i%5]
		row, next := r.rcRestart(old, slow, handover)
		old = next
		rows = append(rows, row)
		if row.problem != "" {
			t.Errorf("restart %d: %s", i+1, row.problem)
		}
	}
	end := time.Now()
	if err := s.Stop(); err != nil {
		t.Error(err)
	}
	for i := range rows {
		to := end
		if i+1 < len(rows) {
			to = rows[i+1].start
		}
		rows[i].lost, rows[i].gap = s.lostBetween(rows[i].start, to)
		if handover && rows[i].lost != 0 {
			t.Errorf("restart %d with handover: %d new IKE flows rejected (gap %v): the router was without our rules", i+1, rows[i].lost, rows[i].gap)
		}
	}
	how := "SIGTERM, no wait, cleanup, start"
	if handover {
		how = "init script restart(): handover, SIGTERM, no wait, cleanup, start"
	}
	t.Logf("rc.common restart (%s) against fw4 %s:\n%s", how, fw4Commit(r), restartTable(rows))
}

type restartRow struct {
	slow                     int
	start                    time.Time
	oldExit, cleanup, answer time.Duration
	respawns                 int
	// gap and lost: new IKE flows rejected from this restart to the next
	// (the old agent removes its rules at SIGTERM: printed, not judged).
	gap     time.Duration
	lost    int
	problem string
}

// rcRestart restarts old as rc.common + procd would and checks the
// router afterwards. It returns the new agent.
func (r *fw4Rig) rcRestart(old *agentProc, slow int, handover bool) (restartRow, *agentProc) {
	r.t.Helper()
	t0 := time.Now()
	row := restartRow{slow: slow, start: t0}
	if handover {
		if out, err := r.run("vpnpass", "handover"); err != nil {
			r.t.Fatalf("vpnpass handover: %v: %s", err, out)
		}
	}
	old.term()
	if slow > 1 {
		go old.throttle(slow)
	}
	out, err := r.run("vpnpass", "cleanup") // service_stopped, OpenWrt's paths
	row.cleanup = time.Since(t0)
	if err != nil {
		row.problem = fmt.Sprintf("vpnpass cleanup: %v: %s", err, out)
	}
	spawned := time.Now()
	a := r.spawnAgent()
	if err := old.wait(10 * time.Second); err != nil {
		row.problem = join(row.problem, err.Error())
	}
	row.oldExit = time.Since(t0)
	// Only now is an answer on the socket the new agent's.
	for {
		err := r.waitAnswer(a, 10*time.Second)
		if err == nil {
			break
		}
		if row.respawns >= 5 {
			r.t.Fatalf("the new agent never came up after %d respawns: %v\n%s", row.respawns, err, a.log.String())
		}
		row.respawns++
		time.Sleep(procdRespawn)
		a = r.spawnAgent()
	}
	row.answer = time.Since(t0)
	r.agent = a
	// The old agent is gone: whatever it removed on its way out must not
	// have been the new one's, and the new one must not have needed a
	// repair for it (a repair clears live flows, item 3).
	var probs []string
	time.Sleep(200 * time.Millisecond) // a repair would be done by now
	repairs, err := r.events("firewall.drift_repaired", spawned)
	if err != nil {
		probs = append(probs, "history not readable through the new agent")
	}
	switch {
	case strings.Contains(a.log.String(), "repaired firewall drift"):
		probs = append(probs, "the new agent had to repair its rules (the old one removed them on its way out)")
	case len(repairs) != 0:
		probs = append(probs, "a drift repair was recorded after the new agent was started (the old one repaired what `vpnpass cleanup` removed)")
	}
	if strings.Contains(a.log.String(), "history unavailable") {
		probs = append(probs, "the new agent runs without history (the old one still held it)")
	}
	if m := r.missingTables(); len(m) != 0 {
		probs = append(probs, fmt.Sprintf("tables %v missing", m))
	}
	if r.includeInView() == "" {
		probs = append(probs, "include "+includeTarget+" missing")
	}
	if !r.udpPasses(500) {
		probs = append(probs, "new IKE flow rejected")
	}
	r.fw4("reload")
	if !r.udpPasses(4500) {
		probs = append(probs, "new NAT-T flow rejected after fw4 reload")
	}
	row.problem = join(row.problem, strings.Join(probs, "; "))
	return row, a
}

// throttle lets the process run 2 ms of every 2*slow ms (SIGSTOP and
// SIGCONT) until it exits: a CPU slow times slower, for this process only.
func (a *agentProc) throttle(slow int) {
	pid := a.cmd.Process.Pid
	defer syscall.Kill(pid, syscall.SIGCONT)
	for {
		select {
		case <-a.exited:
			return
		case <-time.After(2 * time.Millisecond):
		}
		_ = syscall.Kill(pid, syscall.SIGSTOP)
		select {
		case <-a.exited:
			return
		case <-time.After(time.Duration(2*(slow-1)) * time.Millisecond):
		}
		_ = syscall.Kill(pid, syscall.SIGCONT)
	}
}

func join(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "; " + b
}

func restartTable(rows []restartRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %-3s %9s %10s %10s %10s %8s %8s %6s  %s\n", "#", "old speed", "cleanup ms", "old gone", "answer ms", "respawns", "gap ms", "lost", "problem")
	for i, r := range rows {
		p := r.problem
		if p == "" {
			p = "-"
		}
		fmt.Fprintf(&b, "  %-3d %9s %10.1f %10.1f %10.1f %8d %8.1f %6d  %s\n", i+1, "1/"+strconv.Itoa(r.slow),
			ms(r.cleanup), ms(r.oldExit), ms(r.answer), r.respawns, ms(r.gap), r.lost, p)
	}
	return b.String()
}
