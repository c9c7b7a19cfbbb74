package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/vpnpass/vpnpass/test/lab"
)

// flapRig drives the router's links and addresses under a running agent.
type flapRig struct {
	t     *testing.T
	l     *lab.Lab
	a     *agentRun
	root  string
	stats string // the agent's goroutine count file (test hook)
	wan   netip.Prefix
	ops   map[string]int
}

// flapAddrs are the WAN addresses a DHCP or PPPoE renumbering moves between.
var flapAddrs = []netip.Prefix{lab.UpstreamWAN, netip.MustParsePrefix("198.51.100.3/24"), netip.MustParsePrefix("198.51.100.4/24")}

// TestLifeFlapAndSoak (issue 15 §4): the WAN goes down and up, is
// renumbered DHCP-style (address replaced in place) and PPPoE-style (down,
// new address, up), br-lan goes down and up: 100 times under `make test`,
// 1,000 and for at least VPNPASS_SOAK_MINUTES (30 by default) under `make
// soak`, with a storm (50 changes back to back) every 50. The agent runs
// the test build under the init script's GOMEMLIMIT, its history capped at
// 64 KiB. After warm-up (the first fifth) its RSS and goroutines are
// sampled; at the end RSS must be within 10% (+512 KiB, the page
// granularity of a small heap) of the warm-up value, goroutines no more
// than 2 above, the history file within its cap, no WAN or NAT event
// repeated back to back (deduplicated), and the rules back to the config's
// state.
func TestLifeFlapAndSoak(t *testing.T) {
	t.Parallel()
	flaps := lifeCount(100, 1000)
	minutes := 0
	if os.Getenv(soakEnv) != "" {
		minutes = 30
		if m, err := strconv.Atoi(os.Getenv("VPNPASS_SOAK_MINUTES")); err == nil {
			minutes = m
		}
	}
	root, dir := includeTree(t)
	l := lab.New(t, lab.Config{Topology: lab.Single, FW4IncludeDir: dir, Firewalls: []lab.Firewall{lab.FW4Locked}})
	r := &flapRig{t: t, l: l, root: root, wan: lab.UpstreamWAN, ops: map[string]int{}}
	r.a = newAgent(t, l)
	r.a.bin, r.a.maxKB = floodBinary(t), 64
	r.stats = filepath.Join(r.a.dir, "stats")
	r.a.env = []string{"VPNPASS_TEST_ROOT=" + root, "VPNPASS_TEST_STATS_FILE=" + r.stats}
	r.a.env = append(r.a.env, initScriptEnv(t)...)
	r.a.options = []string{"list public_range '198.51.100.0/24'"}
	r.a.writeConfig(t, "allow", "block", "allow")
	r.a.start(t)
	want := (&crashRig{t: t, l: l, root: root}).settle()

	start := time.Now()
	var warmRSS, warmG int64
	var lt lifeTable
	for i := 0; i < flaps || time.Since(start) < time.Duration(minutes)*time.Minute; i++ {
		r.flap(i%50 == 49)
		if i == max(flaps/5, 20) {
			time.Sleep(2 * time.Second) // let the agent catch up, then sample
			warmRSS, warmG = r.sample()
			lt.add("after warm-up", "%d changes: RSS %d KiB, %d goroutines", i+1, warmRSS, warmG)
		}
		if i%200 == 199 {
			rss, g := r.sample()
			t.Logf("%d changes, %v: RSS %d KiB, %d goroutines", i+1, time.Since(start).Round(time.Second), rss, g)
		}
	}
	r.restore()
	took := time.Since(start)
	conv := r.converge(want)
	time.Sleep(2 * time.Second)
	endRSS, endG := r.sample()
	_, hwm, _ := procMem(r.a.cmd.Process.Pid)
	lt.add("changes", "%v in %v", r.ops, took.Round(time.Second))
	lt.add("at the end", "RSS %d KiB (%+.1f%%), peak %d KiB, %d goroutines", endRSS, 100*float64(endRSS-warmRSS)/float64(warmRSS), hwm, endG)
	lt.add("rules back to the config", "%v after the last change", conv.Round(time.Millisecond))
	r.checkHistory(&lt)
	lt.log(t, "WAN flapping and soak (issue 15 §4)")
	if endRSS > warmRSS+warmRSS/10+512 {
		t.Errorf("RSS grew from %d KiB after warm-up to %d KiB at the end (more than 10%% + 512 KiB)", warmRSS, endRSS)
	}
	if endG > warmG+2 {
		t.Errorf("goroutines grew from %d after warm-up to %d at the end", warmG, endG)
	}
	r.a.stop(t)
}

// flap does one random change; storm does 50 back to back.
func (r *flapRig) flap(storm bool) {
	n := 1
	if storm {
		n = 50
		r.ops["storm"]++
	}
	for j := 0; j < n; j++ {
		switch rand.IntN(4) {
		case 0:
			r.linkCycle(r.l.WANDevice, "wan down/up")
		case 1:
			r.renumber(false)
		case 2:
			r.renumber(true)
		default:
			r.linkCycle(lab.LANDevice, "br-lan down/up")
		}
		if !storm {
			time.Sleep(time.Duration(10+rand.IntN(40)) * time.Millisecond)
		}
	}
}

func (r *flapRig) link(name string) netlink.Link {
	lk, err := r.l.Router.Netlink().LinkByName(name)
	if err != nil {
		r.t.Fatal(err)
	}
	return lk
}

func (r *flapRig) linkCycle(name, op string) {
	h, lk := r.l.Router.Netlink(), r.link(name)
	if err := h.LinkSetDown(lk); err != nil {
		r.t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if err := h.LinkSetUp(lk); err != nil {
		r.t.Fatal(err)
	}
	if name == r.l.WANDevice {
		r.defaultRoute()
	}
	r.ops[op]++
}

// renumber moves the WAN to the next address: in place (DHCP), or with the
// link down in between (a PPPoE reconnect).
func (r *flapRig) renumber(pppoe bool) {
	h, lk := r.l.Router.Netlink(), r.link(r.l.WANDevice)
	next := flapAddrs[0]
	for i, p := range flapAddrs {
		if p == r.wan {
			next = flapAddrs[(i+1)%len(flapAddrs)]
		}
	}
	if pppoe {
		if err := h.LinkSetDown(lk); err != nil {
			r.t.Fatal(err)
		}
	}
	if err := h.AddrDel(lk, nlAddr(r.wan)); err != nil {
		r.t.Fatalf("del %s: %v", r.wan, err)
	}
	if err := h.AddrAdd(lk, nlAddr(next)); err != nil {
		r.t.Fatalf("add %s: %v", next, err)
	}
	r.wan = next
	if pppoe {
		if err := h.LinkSetUp(lk); err != nil {
			r.t.Fatal(err)
		}
		r.ops["pppoe renumber"]++
	} else {
		r.ops["dhcp renumber"]++
	}
	r.defaultRoute()
}

func (r *flapRig) defaultRoute() {
	h, lk := r.l.Router.Netlink(), r.link(r.l.WANDevice)
	gw := r.l.Gateway
	rt := &netlink.Route{LinkIndex: lk.Attrs().Index, Gw: gw.AsSlice()}
	if err := h.RouteReplace(rt); err != nil {
		r.t.Fatalf("default route via %s: %v", gw, err)
	}
}

// restore puts the lab's own WAN address back (the masquerade and the
// servers' routes expect it).
func (r *flapRig) restore() {
	for r.wan != lab.UpstreamWAN {
		r.renumber(false)
	}
}

func nlAddr(p netip.Prefix) *netlink.Addr {
	a, err := netlink.ParseAddr(p.String())
	if err != nil {
		panic(err)
	}
	return a
}

// sample returns the agent's RSS (KiB) and goroutines (test hook file).
func (r *flapRig) sample() (rss, goroutines int64) {
	rss, _, err := procMem(r.a.cmd.Process.Pid)
	if err != nil {
		r.t.Fatal(err)
	}
	b, err := os.ReadFile(r.stats)
	if err != nil {
		r.t.Fatalf("goroutine count (test hook): %v", err)
	}
	g, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return rss, g
}

// converge waits until our rules are the config's state again.
func (r *flapRig) converge(want fwState) time.Duration {
	start := time.Now()
	for {
		s := crashState(r.t, r.l, r.root)
		if s.equal(want) {
			return time.Since(start)
		}
		if time.Since(start) > 5*time.Second {
			r.t.Fatalf("rules not back to the config's state 5 s after the flapping:\n%s", lineDiff(want.nft, s.nft))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkHistory: the file within its cap, WAN and NAT events never repeated
// back to back.
func (r *flapRig) checkHistory(lt *lifeTable) {
	t := r.t
	fi, err := os.Stat(filepath.Join(r.a.dir, "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	limit := int64(r.a.maxKB) << 10
	evs := r.a.events(t, historyParams{Limit: 1 << 20})
	kinds := map[string]int{}
	last := map[string]string{}
	repeats := 0
	for i := len(evs) - 1; i >= 0; i-- { // oldest first
		e := evs[i]
		kinds[e.Kind]++
		if e.Kind != "wan.changed" && e.Kind != "nat.changed" {
			continue
		}
		k := e.Message + fmt.Sprint(e.Details)
		if last[e.Kind] == k {
			repeats++
			if repeats <= 3 {
				t.Errorf("%s repeated back to back (seq %d): %s", e.Kind, e.Seq, e.Message)
			}
		}
		last[e.Kind] = k
	}
	lt.add("history", "file %d of %d bytes, %d events kept: %v", fi.Size(), limit, len(evs), kinds)
	if fi.Size() > limit {
		t.Errorf("history file %d bytes, over its cap of %d", fi.Size(), limit)
	}
	if repeats > 0 {
		t.Errorf("%d WAN/NAT events repeat the one before them", repeats)
	}
}
