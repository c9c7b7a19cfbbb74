package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/test/peers/swan"
)

// churnRig is a router with fw4 (with our include) and iptables-legacy,
// an agent allowing IPsec, and a strongSwan tunnel from the LAN carrying a
// continuous ping.
type churnRig struct {
	t       *testing.T
	l       *lab.Lab
	a       *agentRun
	root    string
	ping    *pinger
	want    fwState // our state for the agent's config
	foreign string  // everything untagged, as it was before the churn
	table   lifeTable
	settle  durations
	phase   string // the kind of disturbance running
}

// churnKind is one kind of disturbance, done count times.
type churnKind struct {
	name   string
	count  int
	target int // pings it may lose (the target with the include: 0)
	do     func(r *churnRig, i int)
}

// TestLifeChurnLiveTunnel (issue 15 §2): while a strongSwan tunnel carries
// a continuous ping (every 10 ms), the router's firewall churns: fw4
// reloads (50 here, 500 under `make soak`), hotplug storms (20 reloads in
// 2 s), `fw4 flush` + start, fw3-style iptables reloads (flush FORWARD and
// re-add), and mode flips of the OTHER protocols (pptp, l2tp) through the
// API. Per kind it counts the pings lost (target 0: the include renders
// our allows inside fw4's own transaction; a flush + start and an iptables
// flush leave a window the agent must close), and after each kind our
// rules are back to the config's state within 1 s (asserted at 3 s,
// measured) and nothing untagged changed.
func TestLifeChurnLiveTunnel(t *testing.T) {
	t.Parallel()
	root, dir := includeTree(t)
	l := lab.New(t, lab.Config{Topology: lab.Single, FW4IncludeDir: dir,
		Firewalls: []lab.Firewall{lab.FW4Locked, lab.IptablesLegacyDrop}})
	r := &churnRig{t: t, l: l, root: root}
	r.a = includeAgent(t, l, root, "allow", "block", "allow")
	swan.Start(t, l.Inet, swan.Config{Role: swan.Responder})
	cli := swan.Start(t, l.LAN, swan.Config{Role: swan.Initiator})
	if err := cli.Initiate(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	r.want = r.waitSettled(fwState{}, false)
	r.foreign = untagged(t, l)
	r.ping = startPinger(t, l.LAN, lab.Server2, 10*time.Millisecond)
	for deadline := time.Now().Add(10 * time.Second); r.ping.mark() < 70 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond) // a busy host ticks slower than every 10 ms
	}
	time.Sleep(500 * time.Millisecond) // the replies of the last ones
	if lost, sent := r.ping.lost(0, r.ping.mark()-50); lost > 0 || sent < 20 {
		t.Fatalf("the tunnel loses %d of %d pings before any churn", lost, sent)
	}
	for _, k := range churnKinds() {
		r.run(k)
	}
	r.table.add("back to the config's state after each kind", "%v", r.settle)
	// An iptables apply whose read-back meets the owner's reload halfway
	// (flush, then re-add) rolls back and says so; the next pass repairs
	// it. Counted and reported; any other error fails.
	raced := 0
	for _, ev := range r.a.history(t, "error").Events {
		if strings.Contains(ev.Message, "iptables") && strings.Contains(ev.Message, "read back") {
			raced++
			continue
		}
		t.Errorf("error event: %+v", ev)
	}
	r.table.add("error events", "%d (iptables read-back raced the owner's reload, repaired on the next pass)", raced)
	r.table.log(t, "firewall churn with a live tunnel (issue 15 §2)")
}

func churnKinds() []churnKind {
	return []churnKind{
		{"fw4 reload", lifeCount(50, 500), 0, func(r *churnRig, i int) {
			r.reloadFW4()
			time.Sleep(20 * time.Millisecond)
		}},
		{"hotplug storm (20 reloads in 2 s)", lifeCount(1, 5), 0, func(r *churnRig, i int) {
			for j := 0; j < 20; j++ {
				r.reloadFW4()
				time.Sleep(100 * time.Millisecond)
			}
		}},
		{"fw4 flush + start", lifeCount(3, 20), -1, func(r *churnRig, i int) {
			if _, err := r.l.Nft("flush", "ruleset"); err != nil {
				r.t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond) // `fw4 flush` and the start are separate commands
			r.reloadFW4()
			time.Sleep(300 * time.Millisecond)
		}},
		{"iptables reload (flush FORWARD, re-add)", lifeCount(5, 50), -1, func(r *churnRig, i int) {
			for _, c := range [][]string{{"-F", "FORWARD"},
				{"-A", "FORWARD", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
				{"-A", "FORWARD", "-p", "icmp", "-j", "ACCEPT"}} {
				if _, err := r.l.Iptables("legacy", c...); err != nil {
					r.t.Fatal(err)
				}
			}
			time.Sleep(300 * time.Millisecond)
		}},
		{"mode flips of pptp and l2tp", lifeCount(10, 100), 0, func(r *churnRig, i int) {
			proto := []string{"pptp", "l2tp"}[i%2]
			mode := map[bool]string{true: "block", false: "allow"}[(i/2)%2 == 0]
			if proto == "l2tp" {
				mode = map[string]string{"block": "allow", "allow": "block"}[mode]
			}
			r.set(proto, mode)
			if i%4 == 3 || i == lifeCount(10, 100)-1 { // back to the config: allow, block, allow
				r.set("pptp", "allow")
				r.set("l2tp", "block")
			}
		}},
	}
}

// run does one kind of disturbance count times under the ping, then checks
// and records what it cost.
func (r *churnRig) run(k churnKind) {
	t := r.t
	r.phase = k.name
	from := r.ping.mark()
	start := time.Now()
	for i := 0; i < k.count; i++ {
		k.do(r, i)
	}
	took := time.Since(start)
	r.want = r.waitSettled(r.want, true)
	to := r.ping.mark()
	time.Sleep(500 * time.Millisecond) // the last requests' replies
	lost, sent := r.ping.lost(from, to)
	r.table.add(k.name, "%d times in %v: %d of %d pings lost", k.count, took.Round(time.Millisecond), lost, sent)
	if k.target >= 0 && lost > k.target {
		t.Errorf("%s ×%d: %d of %d pings through the tunnel lost, want at most %d", k.name, k.count, lost, sent, k.target)
	}
	if got := untagged(t, r.l); got != r.foreign {
		t.Errorf("%s: rules not ours changed:\n%s", k.name, lineDiff(r.foreign, got))
	}
}

// waitSettled waits until our state is want (when check) or stops changing
// (without), and returns it; with check, the time is recorded and must be
// within 3 s (the target is 1 s: measured and reported).
func (r *churnRig) waitSettled(want fwState, check bool) fwState {
	t := r.t
	start := time.Now()
	if !check {
		cr := crashRig{t: t, l: r.l, root: r.root}
		return cr.settle()
	}
	for {
		s := crashState(t, r.l, r.root)
		if s.equal(want) {
			r.settle = append(r.settle, time.Since(start))
			return s
		}
		if time.Since(start) > 3*time.Second {
			t.Fatalf("%s: our rules are not back to the config's state 3 s after the churn:\nnft %s\ninclude %q vs %q\niptables %s",
				r.phase, lineDiff(want.nft, s.nft), s.include, want.include,
				lineDiff(strings.Join(want.iptables, "\n"), strings.Join(s.iptables, "\n")))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *churnRig) reloadFW4() {
	if err := r.l.ReloadFW4(); err != nil {
		r.t.Fatalf("%s: %v", r.phase, err)
	}
}

func (r *churnRig) set(proto, mode string) {
	c, err := api.Dial(r.a.socket)
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Call(ctx, "set", api.SetParams{Protocol: proto, Mode: mode}, nil); err != nil {
		r.t.Fatalf("set %s %s: %v", proto, mode, err)
	}
}

// untagged is the router's firewall without anything of ours: nftables
// (stateless) and every iptables variant and table.
func untagged(t testing.TB, l *lab.Lab) string {
	t.Helper()
	var b strings.Builder
	out, err := l.Nft("-s", "list", "ruleset")
	if err != nil {
		t.Fatal(err)
	}
	ours := false
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "table ") {
			ours = strings.Contains(line, " vpnpass")
		}
		if !ours && !strings.Contains(line, "vpnpass") {
			b.WriteString(line + "\n")
		}
	}
	for _, v := range []string{"legacy", "nft"} {
		for _, table := range []string{"filter", "raw", "nat"} {
			out, _ := l.Router.Run("iptables-"+v+"-save", "-t", table)
			for _, line := range strings.Split(string(out), "\n") {
				if !strings.HasPrefix(line, "#") && !strings.Contains(line, "vpnpass") {
					b.WriteString(chainCounters.ReplaceAllString(line, "[]") + "\n")
				}
			}
		}
	}
	return b.String()
}
