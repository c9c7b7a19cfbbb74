package openwrt

import (
	"fmt"
	"strings"
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
func TestRCRestartKeepsRules(t *testing.T) {
	r := newFW4Rig(t, "allow", "default", "allow")
	r.fw4("start")
	old := r.startAgent()
	if _, ok := r.waitPasses(500, 3*time.Second); !ok {
		t.Fatalf("IKE rejected with ipsec allow before the test starts\n%s", r.forwardChain())
	}
	var rows []restartRow
	for i := 0; i < 20; i++ {
		row, next := r.rcRestart(old)
		old = next
		rows = append(rows, row)
		if row.problem != "" {
			t.Errorf("restart %d: %s", i+1, row.problem)
		}
	}
	t.Logf("rc.common restart (SIGTERM, no wait, cleanup, start) against fw4 %s:\n%s", fw4Commit(r), restartTable(rows))
}

type restartRow struct {
	oldExit, cleanup, answer time.Duration
	respawns                 int
	problem                  string
}

// rcRestart restarts old as rc.common + procd would and checks the
// router afterwards. It returns the new agent.
func (r *fw4Rig) rcRestart(old *agentProc) (restartRow, *agentProc) {
	r.t.Helper()
	var row restartRow
	t0 := time.Now()
	old.term()
	out, err := r.run("vpnpass", "cleanup") // service_stopped, OpenWrt's paths
	row.cleanup = time.Since(t0)
	if err != nil {
		row.problem = fmt.Sprintf("vpnpass cleanup: %v: %s", err, out)
	}
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
	// have been the new one's. No repair time is granted.
	var probs []string
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

func join(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "; " + b
}

func restartTable(rows []restartRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %-3s %10s %10s %10s %8s  %s\n", "#", "cleanup ms", "answer ms", "old gone", "respawns", "problem")
	for i, r := range rows {
		p := r.problem
		if p == "" {
			p = "-"
		}
		fmt.Fprintf(&b, "  %-3d %10.1f %10.1f %10.1f %8d  %s\n", i+1, ms(r.cleanup), ms(r.answer), ms(r.oldExit), r.respawns, p)
	}
	return b.String()
}
