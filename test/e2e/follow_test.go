package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/netfilter/nft"
	"github.com/vpnpass/vpnpass/test/lab"
)

// includeTree makes a temp root with fw4's include directory (what the
// firewall4 package installs) and returns it with the directory that the
// lab's fw4 ruleset must include, as fw4 renders chain-pre includes.
func includeTree(t *testing.T) (root, dir string) {
	t.Helper()
	root = t.TempDir()
	dir = filepath.Dir(filepath.Join(root, nft.IncludeSymlink))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return root, dir
}

// includeAgent starts the test build of the agent with its fw4 include tree
// under root (VPNPASS_TEST_ROOT), modes as startAgent's.
func includeAgent(t *testing.T, l *lab.Lab, root string, modes ...string) *agentRun {
	t.Helper()
	a := newAgent(t, l)
	a.bin = floodBinary(t)
	a.env = []string{"VPNPASS_TEST_ROOT=" + root}
	a.writeConfig(t, modes...)
	a.start(t)
	return a
}

// waitFile waits until path exists (the agent wrote fw4's include).
func waitFile(t *testing.T, path string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if _, err := os.Stat(path); err == nil {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("%s not written within %v", path, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const reloads = 50

// TestFW4ReloadNoGap: with an agent that allows IPsec on a locked-down fw4
// router, 50 `fw4 reload`s and restarts (nft -f of the rendered ruleset: flush and
// re-render of table inet fw4 in one transaction) while new IKE and NAT-T
// flows keep starting lose no probe: the include renders our allows inside
// the same transaction. This holds for an agent started after fw4 and for one
// started before fw4 existed (boot order, `firewall start` after a stop),
// where fw4's start itself must not interrupt passthrough either.
func TestFW4ReloadNoGap(t *testing.T) {
	for _, before := range []bool{false, true} {
		name := map[bool]string{false: "agent after fw4", true: "agent before fw4"}[before]
		t.Run(name, func(t *testing.T) {
			root, dir := includeTree(t)
			cfg := lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FW4Locked}, FW4IncludeDir: dir}
			if before {
				cfg.Firewalls = []lab.Firewall{lab.FirewallNone}
			}
			l := lab.New(t, cfg)
			serveUDP(t, l, 500, 4500)
			a := includeAgent(t, l, root, "default", "default", "allow")
			// fw4 is installed: the include is ready before fw4 runs.
			waitFile(t, filepath.Join(root, nft.IncludeFile), time.Second)
			if !udpPasses(t, l, 500) || !udpPasses(t, l, 4500) {
				t.Fatal("IKE / NAT-T do not pass before the reloads")
			}
			var first func() error
			if before {
				first = func() error { return l.StartFW4(true) }
			}
			res := reloadUnderStream(t, l, first)
			t.Logf("%s: %d reloads, %d of %d new-flow probes lost, %d gaps, longest %v",
				name, reloads, res.lost, res.sent, len(res.gaps), res.longest())
			if res.lost != 0 {
				t.Errorf("%d probes lost during %d fw4 reloads (gaps %v), want 0", res.lost, reloads, res.gaps)
			}
			if h := a.history(t, "error"); len(h.Events) != 0 {
				t.Errorf("error events: %+v", h.Events)
			}
			if before && !switchedTo(t, a, "fw4") {
				t.Error("the agent did not take fw4 in charge after fw4 started")
			}
		})
	}
}

// switchedTo reports whether the agent recorded moving its rules to kind.
func switchedTo(t *testing.T, a *agentRun, kind string) bool {
	t.Helper()
	for _, ev := range a.events(t, historyParams{Kind: "firewall."}) {
		if ev.Details["firewall_to"] == kind {
			return true
		}
	}
	return false
}

// reloadUnderStream runs first (when set: fw4 starting), then reloads fw4
// `reloads` times (with first, every tenth a restart), while a stream of new UDP 500 and 4500 flows runs, and
// returns the stream's result.
func reloadUnderStream(t *testing.T, l *lab.Lab, first func() error) streamResult {
	t.Helper()
	stop := make(chan struct{})
	done := make(chan streamResult, 1)
	go func() { done <- newFlowStream(t, l, []uint16{500, 4500}, 2*time.Millisecond, stop) }()
	time.Sleep(100 * time.Millisecond)
	for i := -1; i < reloads; i++ {
		var err error
		switch {
		case first != nil && i%10 == 9:
			// `fw4 restart`: the table deleted, then rendered anew. Only
			// where the lab masquerades itself: a restart also deletes
			// fw4's masquerade, and new flows go untranslated meanwhile.
			if _, err = l.Nft("delete", "table", "inet", "fw4"); err == nil {
				err = l.ReloadFW4()
			}
		case i >= 0:
			err = l.ReloadFW4()
		case first != nil:
			err = first()
		}
		if err != nil {
			close(stop)
			<-done
			t.Fatalf("reload %d: %v", i, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // let the last repair land
	close(stop)
	return <-done
}

// ourTables lists the nftables tables of ours in the router.
func ourTables(t *testing.T, l *lab.Lab) []string {
	t.Helper()
	out, err := l.Nft("list", "tables")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "table inet vpnpass") {
			tables = append(tables, strings.TrimSpace(line))
		}
	}
	slices.Sort(tables)
	return tables
}

// waitTables waits until the router holds want (our tables) again and
// returns how long that took.
func waitTables(t *testing.T, l *lab.Lab, want []string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got := ourTables(t, l)
		if slices.Equal(got, want) {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("our tables %v, not back to %v within %v", got, want, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func hasLine(s, want string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == want {
			return true
		}
	}
	return false
}

// TestForeignFlushRecreatesOurs: `fw4 flush` (nft flush ruleset, what
// `/etc/init.d/firewall stop` runs) deletes every table, ours and the
// observer's too. Within 1 s both are back, the observer counts again (the
// doctor is not blind), the include file is untouched, and the history does
// not fill with error events.
func TestForeignFlushRecreatesOurs(t *testing.T) {
	root, dir := includeTree(t)
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FW4Locked}, FW4IncludeDir: dir})
	serveUDP(t, l, 500)
	a := includeAgent(t, l, root, "allow", "default", "allow")
	waitFile(t, filepath.Join(root, nft.IncludeFile), time.Second)
	tables := ourTables(t, l)
	if len(tables) != 2 {
		t.Fatalf("our tables before the flush: %v, want ours and the observer's", tables)
	}
	flushed := time.Now()
	if _, err := l.Nft("flush", "ruleset"); err != nil {
		t.Fatal(err)
	}
	took := waitTables(t, l, tables, time.Second)
	t.Logf("our tables back %v after the flush", took)
	if _, err := os.Stat(filepath.Join(root, nft.IncludeFile)); err != nil {
		t.Errorf("include file gone after a flush: %v", err)
	}
	// No fw4 (and so no masquerade) now: the probe goes unanswered, but the
	// observer must count it.
	udpPasses(t, l, 500)
	deadline := time.Now().Add(3 * time.Second)
	for {
		out, _ := l.Nft("list", "table", "inet", "vpnpass_watch")
		if strings.Contains(string(out), lab.LANHost.String()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the observer counts nothing from %s after the flush:\n%s", lab.LANHost, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out, err := a.cli("doctor", "--json"); err != nil || !strings.Contains(string(out), `"source": "live"`) && !strings.Contains(string(out), `"source":"live"`) {
		t.Errorf("doctor after the flush: %v\n%s", err, out)
	}
	time.Sleep(10*time.Second - time.Since(flushed))
	if h := a.history(t, "error"); len(h.Events) > 1 {
		t.Errorf("%d error events within 10 s of a flush, want at most 1: %+v", len(h.Events), h.Events)
	}
}
