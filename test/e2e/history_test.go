package e2e

import (
	"context"
	"errors"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/test/lab"
)

// floodRate is the synthetic event rate of the kill test (issue 4: 10k/s).
const floodRate = 10000

// apiEvent is the part of the API's Event the history tests compare.
type apiEvent struct {
	Seq      uint64         `json:"seq"`
	Time     time.Time      `json:"time"`
	Kind     string         `json:"kind"`
	Severity string         `json:"severity"`
	Message  string         `json:"message"`
	Details  map[string]any `json:"details"`
}

type historyParams struct {
	Since string `json:"since,omitempty"`
	Kind  string `json:"kind,omitempty"`
	Limit int    `json:"limit,omitempty"`
}

// events asks the agent's API for history, directly on its socket (a unix
// socket is reachable from any network namespace).
func (a *agentRun) events(t testing.TB, p historyParams) []apiEvent {
	t.Helper()
	c, err := api.Dial(a.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var res struct {
		Events []apiEvent `json:"events"`
	}
	if err := c.Call(ctx, "history", p, &res); err != nil {
		t.Fatalf("history %+v: %v", p, err)
	}
	return res.Events
}

// kill9 kills the agent with SIGKILL and reaps it.
func (a *agentRun) kill9(t testing.TB) {
	t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := a.cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("agent ended with %v before the SIGKILL", err)
	}
}

// historySound checks that the agent opened its history as it was: no file
// moved aside, no history.reset event, nothing said about a corrupt file.
func (a *agentRun) historySound(t *testing.T) {
	t.Helper()
	if moved, _ := filepath.Glob(filepath.Join(a.dir, "history.db.corrupt-*")); len(moved) > 0 {
		t.Fatalf("history file moved aside: %v", moved)
	}
	if evs := a.events(t, historyParams{Kind: "history.reset"}); len(evs) > 0 {
		t.Fatalf("history.reset after restart: %s", evs[0].Message)
	}
	if log := a.log.String(); strings.Contains(log, "history unavailable") || strings.Contains(log, "was corrupt") {
		t.Fatalf("agent log reports a history problem")
	}
}

// TestKill9WhileFlooding kills the agent with SIGKILL while the test hook
// appends 10,000 events/s, 20 times in a row, and restarts it each time:
// the history must open as it is (no reset), and every event the API
// returned right before a kill must be there after the restart, same seq,
// time and kind. The API flushes before it answers history, so what it
// returned was committed: losing it would be a durability bug.
//
// Pruning: the store keeps 40% of history_max_kb in records and drops the
// oldest at every commit. Under the default 512 KiB cap that is about 0.1 s
// of this flood, so events returned before a kill would be pruned, legally,
// by the flood that continues after the query and after the restart, and a
// "missing" event would prove nothing. The config therefore sets the largest
// cap (64 MiB, about 25 MB of records): one run writes far less than that,
// so nothing a run returned is pruned before it is compared, and every
// missing event is a loss. The guard below checks it: pruning drops a
// prefix, so while the previous run's agent.started event is still there
// nothing of that run has been pruned. (Kills during pruning and
// compaction under a small cap are agent/history's TestCrashSafety.)
func TestKill9WhileFlooding(t *testing.T) {
	bin := floodBinary(t)
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FirewallNone}})
	a := newAgent(t, l)
	a.bin, a.maxKB = bin, 65536
	a.env = []string{"VPNPASS_TEST_EVENT_RATE=" + strconv.Itoa(floodRate)}
	a.writeConfig(t)

	const kills = 20
	var before []apiEvent
	var prevStart uint64
	var rates []float64
	compared := 0
	for i := 0; i <= kills; i++ {
		a.start(t)
		a.historySound(t)
		starts := a.events(t, historyParams{Kind: "agent.started", Limit: 1000})
		// Pruning drops a prefix: while the previous run's agent.started
		// event is there, nothing that run returned can have been pruned.
		// (Older runs may be pruned under load; they were checked already.)
		if i > 0 && !hasSeq(starts, prevStart) {
			t.Fatalf("start %d: the previous run's agent.started (seq %d) was pruned: "+
				"one run wrote more than the cap holds", i, prevStart)
		}
		prevStart = starts[0].Seq
		if len(before) > 0 {
			checkKept(t, a, before, i)
			compared += len(before)
		}
		if i == kills {
			break
		}
		time.Sleep(200 * time.Millisecond) // let the flood run
		// Everything since this run started (earlier runs were checked after
		// their own kill; re-reading them each round only costs time).
		before = a.events(t, historyParams{Since: starts[0].Time.Format(time.RFC3339Nano), Limit: 1 << 20})
		rates = append(rates, appendRate(starts[0], before))
		// Land the kill at a random point of the batch cycle (a commit every
		// ~100 ms at this rate).
		time.Sleep(time.Duration(rand.IntN(100)) * time.Millisecond)
		a.kill9(t)
	}
	t.Logf("%d kills, %d events compared; append rate in each run (events/s): %.0f", kills, compared, rates)
	a.stop(t)
}

func hasSeq(evs []apiEvent, seq uint64) bool {
	for _, e := range evs {
		if e.Seq == seq {
			return true
		}
	}
	return false
}

// checkKept fails unless every event in before is in the history now.
func checkKept(t *testing.T, a *agentRun, before []apiEvent, round int) {
	t.Helper()
	oldest := before[len(before)-1]
	// Everything since the oldest compared event: before, what was appended
	// between the query and the kill, and the flood since the restart.
	after := a.events(t, historyParams{Since: oldest.Time.Format(time.RFC3339Nano), Limit: 1 << 20})
	got := make(map[uint64]apiEvent, len(after))
	for _, e := range after {
		got[e.Seq] = e
	}
	missing := 0
	for _, e := range before {
		g, ok := got[e.Seq]
		if !ok || !g.Time.Equal(e.Time) || g.Kind != e.Kind {
			if missing < 5 {
				t.Errorf("restart %d: event seq %d (%s %s) before the kill; after: %+v (found %v)",
					round, e.Seq, e.Kind, e.Time.Format(time.RFC3339Nano), g, ok)
			}
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("restart %d: %d of %d events the API returned before the kill are gone or changed",
			round, missing, len(before))
	}
}

// appendRate is the rate at which events were committed from a run's
// agent.started event to the newest one (the flood starts just after it, so
// this errs low, by at most the few ms between them).
func appendRate(started apiEvent, evs []apiEvent) float64 {
	if len(evs) == 0 {
		return 0
	}
	el := evs[0].Time.Sub(started.Time).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(evs[0].Seq-started.Seq) / el
}

// TestFloodHookOnlyInTestBuild: the flood hook is compiled only with the
// vpnpass_testhooks tag; the shipped binary has none of its symbols.
func TestFloodHookOnlyInTestBuild(t *testing.T) {
	const sym = "agent.floodHistory"
	for _, c := range []struct {
		bin  string
		want bool
	}{{vpnpassBin, false}, {floodBinary(t), true}} {
		out, err := exec.Command("go", "tool", "nm", c.bin).CombinedOutput()
		if err != nil {
			t.Fatalf("go tool nm %s: %v\n%s", c.bin, err, out)
		}
		if !strings.Contains(string(out), "vpnpass/agent.") {
			t.Fatalf("%s has no symbols of package agent: nm output is not what this test expects", c.bin)
		}
		if got := strings.Contains(string(out), sym); got != c.want {
			t.Errorf("%s: symbol %s present = %v, want %v", filepath.Base(c.bin), sym, got, c.want)
		}
	}
}
