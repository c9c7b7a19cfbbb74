package e2e

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/netfilter/nft"
	"github.com/vpnpass/vpnpass/test/lab"
)

// crashModes are the configs the crash test moves between: pptp and ipsec
// allow or block, l2tp always allowed (so no config is empty of rules).
var crashModes = [][3]string{
	{"allow", "allow", "allow"}, {"allow", "allow", "block"},
	{"block", "allow", "allow"}, {"block", "allow", "block"},
}

// fwState is everything of ours in the router's firewall, as the tools
// print it (counters removed): nftables, the fw4 include, iptables.
type fwState struct {
	nft      string   // our nftables objects but the observer's table
	include  string   // the fw4 include file, "" when absent
	iptables []string // tagged iptables rules, sorted
}

func (s fwState) equal(o fwState) bool {
	return s.nft == o.nft && s.include == o.include && slices.Equal(s.iptables, o.iptables)
}

var counterRE = regexp.MustCompile(`counter packets \d+ bytes \d+`)

// ourNft returns our nftables objects: every table of ours but the
// observer's (its counters move with traffic) in full, and the tagged lines
// of everybody else's tables, each under its table's name, sorted: the
// order of our rules in fw4's chains depends on the order of the changes
// that added them (an incremental set appends), which is not what a crash
// can break; half a batch changes the lines themselves.
func ourNft(t testing.TB, l *lab.Lab) string {
	t.Helper()
	out, err := l.Nft("list", "ruleset")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	table, whole := "", false
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "table ") {
			table = strings.TrimSuffix(line, " {")
			name := table[strings.LastIndexByte(table, ' ')+1:]
			whole = strings.HasPrefix(name, "vpnpass") && name != "vpnpass_watch" && !strings.HasPrefix(name, "vpnpass_probe")
		}
		if strings.TrimSpace(line) == "" {
			continue // blank lines between blocks say nothing
		}
		if whole || strings.Contains(line, "vpnpass") && !strings.HasPrefix(line, "table ") {
			lines = append(lines, table+"| "+counterRE.ReplaceAllString(line, "counter")+"\n")
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "")
}

func crashState(t testing.TB, l *lab.Lab, root string) fwState {
	t.Helper()
	inc, err := os.ReadFile(filepath.Join(root, nft.IncludeFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return fwState{nft: ourNft(t, l), include: string(inc), iptables: iptablesTagged(t, l)}
}

// crashRig is the agent under test and what the test knows of it: the
// state each config converges to, and what the agent acknowledged.
type crashRig struct {
	t        *testing.T
	l        *lab.Lab
	a        *agentRun
	root     string
	known    map[[3]string]fwState
	acked    []ackedSet           // sets the API answered ok
	read     []apiEvent           // events the last history read returned, unchecked yet
	readN    int                  // events checked after a kill
	conv     map[string]durations // restart to converged, per kind of kill
	sock     durations            // restart to the socket answering
	sets     int                  // sets sent
	iptables bool                 // the router has an iptables firewall too
	kinds    map[string]int       // kills per kind of operation
}

// convergeDeadline is the generous bound asserted on a restart's
// convergence (the target, 1 s, is measured and reported): iptables-legacy
// waits for the xtables lock, one file for every namespace of the machine,
// which parallel tests hold for seconds on a busy host.
const convergeDeadline = 15 * time.Second

// ackedSet is a set that returned ok between sent and done.
type ackedSet struct {
	proto, mode string
	sent, done  time.Time
}

// TestLifeKill9 (issue 15 §1) kills the agent with SIGKILL at random points
// of what it does to the firewall and the history, 20 times under `make
// test` and 200 under `make soak`, half on fw4 alone, half on fw4 with
// iptables-legacy beside it: while it starts and applies, during a
// set, after a config change and SIGHUP, during its shutdown cleanup, and
// after a history read, with the history written all the time (the test
// hook's flood). After every kill: our nftables objects are one of the
// states the configs converge to or none (one batch, never half), the fw4
// include is whole, iptables holds no rule twice, the config file is one
// of the configs; the restarted agent converges to the config's state (the
// time is measured and reported; the assertion is a generous 15 s), and its
// history holds every event the API acknowledged: each set that answered
// ok, each event a history read returned.
func TestLifeKill9(t *testing.T) {
	t.Parallel()
	kills := lifeCount(20, 200)
	for _, fws := range [][]lab.Firewall{
		{lab.FW4Locked},                         // OpenWrt's default
		{lab.FW4Locked, lab.IptablesLegacyDrop}, // plus iptables: rules one process each
	} {
		name := string(fws[len(fws)-1])
		t.Run(name, func(t *testing.T) { kill9Rounds(t, fws, kills/2) })
	}
}

func kill9Rounds(t *testing.T, fws []lab.Firewall, kills int) {
	root, dir := includeTree(t)
	l := lab.New(t, lab.Config{Topology: lab.Single, FW4IncludeDir: dir, Firewalls: fws})
	a := newAgent(t, l)
	a.bin, a.maxKB = floodBinary(t), 65536
	a.env = []string{"VPNPASS_TEST_ROOT=" + root, "VPNPASS_TEST_EVENT_RATE=300"}
	r := &crashRig{t: t, l: l, a: a, root: root, known: map[[3]string]fwState{}, kinds: map[string]int{},
		conv: map[string]durations{}, iptables: len(fws) > 1}
	r.learn()
	for i := 0; i < kills; i++ {
		kind := r.killOnce()
		r.kinds[kind]++
		r.checkAfterKill(i, kind)
		r.restart(i, kind)
	}
	a.stop(t)
	var lt lifeTable
	lt.add("kills", "%d %v", kills, r.kinds)
	lt.add("restart to socket answering", "%v", r.sock)
	var all durations
	for k, d := range r.conv {
		lt.add("restart to converged after "+k, "%v", d)
		all = append(all, d...)
	}
	lt.add("restart to converged, all", "%v", all)
	lt.add("acknowledged sets checked", "%d", len(r.acked))
	lt.add("history events read before a kill, checked", "%d", r.readN)
	lt.log(t, "kill -9, "+string(fws[len(fws)-1])+" (issue 15 §1)")
}

// learn starts the agent in every config and records the state it
// converges to.
func (r *crashRig) learn() {
	t := r.t
	for _, m := range crashModes {
		r.a.writeConfig(t, m[:]...)
		r.a.start(t)
		r.known[m] = r.settle()
		if r.known[m].nft == "" || r.iptables != (len(r.known[m].iptables) > 0) {
			t.Fatalf("config %v: nothing of ours in nftables, or not what the firewalls want in iptables:\n%+v", m, r.known[m])
		}
		r.a.stop(t)
	}
	for i, m := range crashModes {
		for _, o := range crashModes[i+1:] {
			if r.known[m].equal(r.known[o]) {
				t.Fatalf("configs %v and %v converge to the same state: the test could not tell them apart", m, o)
			}
		}
	}
	r.a.writeConfig(t, crashModes[0][:]...)
	r.a.start(t)
}

// settle waits until the state stays the same for 300 ms and returns it.
func (r *crashRig) settle() fwState {
	prev := crashState(r.t, r.l, r.root)
	for stable := time.Now(); time.Since(stable) < 300*time.Millisecond; {
		time.Sleep(50 * time.Millisecond)
		if s := crashState(r.t, r.l, r.root); !s.equal(prev) {
			prev, stable = s, time.Now()
		}
	}
	return prev
}

// killOnce does one randomly chosen operation and kills the agent at a
// random point of it; it returns the operation's name.
func (r *crashRig) killOnce() string {
	t, a := r.t, r.a
	switch rand.IntN(5) {
	case 0: // starting: the first apply
		a.kill9(t)
		r.startNoWait()
		time.Sleep(time.Duration(rand.IntN(400)) * time.Millisecond)
		a.kill9(t)
		return "start"
	case 1:
		r.setThenKill()
		return "set"
	case 2: // a config change and SIGHUP (uci commit + reload)
		cur := r.configModes()
		next := crashModes[rand.IntN(len(crashModes))]
		for next == cur {
			next = crashModes[rand.IntN(len(crashModes))]
		}
		a.writeConfig(t, next[:]...)
		a.hup(t)
		time.Sleep(time.Duration(rand.IntN(60)) * time.Millisecond)
		a.kill9(t)
		return "hup"
	case 3: // shutdown cleanup
		if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.IntN(60)) * time.Millisecond)
		if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = a.cmd.Wait() // it may have finished its cleanup already
		return "cleanup"
	default: // a history read, then the flood goes on until the kill
		evs := a.events(t, historyParams{Limit: 50})
		r.read = append(r.read, evs...)
		time.Sleep(time.Duration(rand.IntN(250)) * time.Millisecond)
		a.kill9(t)
		return "history"
	}
}

// setThenKill sends a set that moves to another known config and kills
// the agent at a random point before or after the answer.
func (r *crashRig) setThenKill() {
	t, a := r.t, r.a
	cur := r.configModes()
	i := []int{0, 2}[rand.IntN(2)]
	next := map[string]string{"allow": "block", "block": "allow"}[cur[i]]
	proto := []string{"pptp", "l2tp", "ipsec"}[i]
	done := make(chan ackedSet, 1)
	go func() {
		s := ackedSet{proto: proto, mode: next, sent: time.Now()}
		c, err := api.Dial(a.socket)
		if err != nil {
			done <- ackedSet{}
			return
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Call(ctx, "set", api.SetParams{Protocol: proto, Mode: next}, nil); err != nil {
			done <- ackedSet{}
			return
		}
		s.done = time.Now()
		done <- s
	}()
	r.sets++
	if r.sets%2 == 1 { // during the set: apply, config write, record
		time.Sleep(time.Duration(rand.IntN(600)) * time.Millisecond)
		a.kill9(t)
		if s := <-done; !s.done.IsZero() {
			r.acked = append(r.acked, s)
		}
		return
	}
	// right after the answer: the event must already be durable
	s := <-done
	time.Sleep(time.Duration(rand.IntN(200)) * time.Millisecond)
	a.kill9(t)
	if s.done.IsZero() {
		t.Fatalf("set %s %s failed (agent log above)", proto, next)
	}
	r.acked = append(r.acked, s)
}

// startNoWait starts the agent without waiting for its socket.
func (r *crashRig) startNoWait() {
	bin := r.a.bin
	cmd := r.l.Router.Command(bin, "agent", "--config", r.a.config, "--socket", r.a.socket)
	cmd.Stdout, cmd.Stderr = r.a.log, r.a.log
	cmd.Env = append(os.Environ(), r.a.env...)
	if err := r.l.Router.StartCmd(cmd); err != nil {
		r.t.Fatal(err)
	}
	r.a.cmd = cmd
}

// configModes reads the modes the config file holds; it must be one of
// the test's configs, whole.
func (r *crashRig) configModes() [3]string {
	b, err := os.ReadFile(r.a.config)
	if err != nil {
		r.t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "option" && f[1] == "mode" {
			got = append(got, strings.Trim(f[2], "'"))
		}
	}
	for _, m := range crashModes {
		if slices.Equal(got, m[:]) {
			return m
		}
	}
	r.t.Fatalf("config file holds modes %v, none of the test's configs:\n%s", got, b)
	return [3]string{}
}

// checkAfterKill checks what a kill left: nftables one known state or
// none, the include whole, no duplicate iptables rule, the config whole.
func (r *crashRig) checkAfterKill(i int, kind string) {
	t := r.t
	r.configModes()
	s := crashState(t, r.l, r.root)
	nftOK, incOK := s.nft == "", s.include == ""
	for _, k := range r.known {
		nftOK = nftOK || s.nft == k.nft
		incOK = incOK || s.include == k.include
	}
	if !nftOK {
		for m, k := range r.known {
			t.Logf("against %v:\n%s", m, lineDiff(k.nft, s.nft))
		}
		t.Fatalf("kill %d (%s): our nftables objects are none of the configs' states (half a batch?):\n%s", i, kind, s.nft)
	}
	if !incOK {
		t.Fatalf("kill %d (%s): the fw4 include is none of the configs' files (torn?):\n%s", i, kind, s.include)
	}
	if d := duplicates(s.iptables); len(d) > 0 {
		t.Fatalf("kill %d (%s): iptables rules twice: %v", i, kind, d)
	}
}

// restart starts the agent again and measures until the firewall holds the
// config's state; then checks the history against what was acknowledged.
func (r *crashRig) restart(i int, kind string) {
	t := r.t
	want := r.known[r.configModes()]
	start := time.Now()
	r.a.start(t)
	r.sock = append(r.sock, time.Since(start))
	for {
		s := crashState(t, r.l, r.root)
		if s.equal(want) && len(duplicates(s.iptables)) == 0 {
			break
		}
		if time.Since(start) > convergeDeadline {
			t.Fatalf("kill %d (%s): the restarted agent did not converge within %v:\nhave %+v\nwant %+v", i, kind, convergeDeadline, s, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(start)
	r.conv[kind] = append(r.conv[kind], took)
	if took > convergeDeadline {
		t.Fatalf("kill %d (%s): the restarted agent converged after %v, want within %v (the target is 1 s)", i, kind, took, convergeDeadline)
	}
	r.a.historySound(t)
	r.checkAcked(i, kind)
}

// checkAcked: every acknowledged set left its passthrough.changed event,
// every event a history read returned is still there.
func (r *crashRig) checkAcked(i int, kind string) {
	t := r.t
	changes := r.a.events(t, historyParams{Kind: "passthrough.changed", Limit: 1 << 20})
	for _, s := range r.acked {
		if !hasChange(changes, s) {
			t.Fatalf("kill %d (%s): set %s %s answered ok at %s, but its passthrough.changed event is not in the history",
				i, kind, s.proto, s.mode, s.done.Format(time.RFC3339Nano))
		}
	}
	if len(r.read) > 0 {
		checkKept(t, r.a, r.read, i)
		r.readN += len(r.read)
		r.read = nil // checked once, after the kill that followed the read
	}
}

func hasChange(evs []apiEvent, s ackedSet) bool {
	for _, e := range evs {
		if e.Details["to"] == s.mode && strings.HasPrefix(e.Message, s.proto+" ") &&
			!e.Time.Before(s.sent.Add(-time.Second)) && !e.Time.After(s.done.Add(time.Second)) {
			return true
		}
	}
	return false
}
