package conntrack_test

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/diagnose"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/mdlayher/netlink"
	ct "github.com/ti-mo/conntrack"

	"github.com/vpnpass/vpnpass/test/lab"
)

// watching starts a watcher in the router of l and returns its events. The
// watcher stops at test cleanup.
func watching(t *testing.T, l *lab.Lab, cfg conntrack.WatchConfig, buffer int) (*conntrack.Watcher, chan conntrack.Event) {
	t.Helper()
	cfg.NetNS = l.Router.Fd()
	w := conntrack.NewWatcher(cfg)
	events := make(chan conntrack.Event, buffer)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, events) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("watch ended with %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("watch did not stop after cancel")
		}
	})
	return w, events
}

// next returns the first event matching pred, failing after timeout.
func next(t *testing.T, events <-chan conntrack.Event, timeout time.Duration, what string, pred func(conntrack.Event) bool) conntrack.Event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-events:
			if pred(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s within %v", what, timeout)
		}
	}
}

func isSyncDone(ev conntrack.Event) bool { return ev.Type == conntrack.EventSyncDone }

func toServer(port uint16) func(conntrack.Event) bool {
	return func(ev conntrack.Event) bool {
		return ev.Flow.Orig.Dst == lab.Server && ev.Flow.Orig.DstPort == port
	}
}

// exchange sends one UDP datagram from the LAN host to the server and
// reports whether the echo came back.
func exchange(t *testing.T, l *lab.Lab, from *lab.Node, port uint16) bool {
	t.Helper()
	_, _, err := lab.UDPExchange(from, netip.AddrPortFrom(lab.Server, port), []byte("x"), 500*time.Millisecond)
	return err == nil
}

func serveUDP(t *testing.T, l *lab.Lab, ports ...uint16) {
	t.Helper()
	for _, p := range ports {
		if _, err := l.Inet.ServeUDPEcho(netip.AddrPortFrom(lab.Server, p)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWatchSessionsThroughNAT: real UDP through the router's masquerade
// makes the events of an IKE exchange answered on 500 and a NAT-T switch
// that the "internet" drops; the tracker judges natt-blocked.
func TestWatchSessionsThroughNAT(t *testing.T) {
	lab.RequireBinaries(t, "nft")
	l := lab.New(t, lab.Config{})
	serveUDP(t, l, vpn.PortIKE, vpn.PortNATT)
	if out, err := l.Inet.Run("nft", "add table inet beyond; add chain inet beyond in { type filter hook input priority 0; udp dport 4500 drop; }"); err != nil {
		t.Fatalf("drop 4500 beyond the router: %v: %s", err, out)
	}
	_, events := watching(t, l, conntrack.WatchConfig{}, 64)
	next(t, events, 5*time.Second, "initial sync", isSyncDone)

	if !exchange(t, l, l.LAN, vpn.PortIKE) {
		t.Fatal("UDP 500 exchange through the router failed")
	}
	if exchange(t, l, l.LAN, vpn.PortNATT) {
		t.Fatal("UDP 4500 came back although the inet namespace drops it")
	}
	tr := diagnose.NewTracker(diagnose.Classifier{LAN: []netip.Prefix{lab.LANPrefix}, Local: []netip.Addr{lab.RouterLAN, l.RouterWAN.Addr()}})
	ike := next(t, events, 5*time.Second, "IKE reply", func(ev conntrack.Event) bool {
		tr.Apply(ev)
		return toServer(vpn.PortIKE)(ev) && ev.Flow.Status.SeenReply()
	})
	natt := next(t, events, 5*time.Second, "NAT-T flow", func(ev conntrack.Event) bool { tr.Apply(ev); return toServer(vpn.PortNATT)(ev) })

	if ike.Flow.Orig.Src != lab.LANHost || ike.Flow.Reply.Dst != l.RouterWAN.Addr() || !ike.Flow.SrcNATed() {
		t.Errorf("IKE flow %v reply %v: want %s masqueraded to %s", ike.Flow, ike.Flow.Reply, lab.LANHost, l.RouterWAN.Addr())
	}
	if natt.Type != conntrack.EventNew || natt.Flow.Status.SeenReply() {
		t.Errorf("NAT-T event %s status %#x: want an unreplied NEW", natt.Type, natt.Flow.Status)
	}
	got := tr.Judge(diagnose.Context{Now: time.Now().Add(diagnose.QuietAfter + time.Second), RouterNATs: true})
	if len(got) != 1 || got[0].Code != diagnose.CodeNATTBlocked || got[0].Host != lab.LANHost.String() {
		t.Fatalf("findings %+v, want natt-blocked for %s", got, lab.LANHost)
	}
}

// TestWatchDumpFindsOlderFlows: a flow created before the watch sends no
// events (nf_conntrack_events=2); the start-up dump must report it.
func TestWatchDumpFindsOlderFlows(t *testing.T) {
	l := lab.New(t, lab.Config{})
	serveUDP(t, l, vpn.PortL2TP)
	if !exchange(t, l, l.LAN, vpn.PortL2TP) {
		t.Fatal("UDP 1701 exchange failed")
	}
	_, events := watching(t, l, conntrack.WatchConfig{}, 64)
	ev := next(t, events, 5*time.Second, "dumped L2TP flow", func(ev conntrack.Event) bool {
		if ev.Type == conntrack.EventSyncDone {
			t.Fatal("sync ended without the older flow")
		}
		return toServer(vpn.PortL2TP)(ev)
	})
	if ev.Type != conntrack.EventDump || !ev.Flow.Status.SeenReply() {
		t.Fatalf("got %s status %#x, want a replied EventDump", ev.Type, ev.Flow.Status)
	}
	next(t, events, 5*time.Second, "end of the initial sync", isSyncDone)
}

// TestKernelFilter: with the BPF filter, ordinary flows never reach
// userspace; without it they do. Entries are created over ctnetlink, which
// reports them like forwarded ones.
func TestKernelFilter(t *testing.T) {
	l := lab.New(t, lab.Config{})
	for _, all := range []bool{false, true} {
		w, events := watching(t, l, conntrack.WatchConfig{AllFlows: all}, 256)
		next(t, events, 5*time.Second, "initial sync", isSyncDone)
		base := w.Stats().Received
		ports := []uint16{53, 443, vpn.PortIKE, 8080, vpn.PortWireGuard}
		createFlows(t, l, vpn.ProtoUDP, 2000+boolPort(all), ports)
		want := uint64(2)
		if all {
			want = uint64(len(ports))
		}
		for _, p := range ports {
			if all || vpn.KindOf(vpn.ProtoUDP, p) != vpn.KindNone {
				next(t, events, 5*time.Second, "created flow", toServer(p))
			}
		}
		time.Sleep(200 * time.Millisecond) // let stray events arrive
		// Unfiltered, unrelated events (the lab's own flows ending) may
		// add to the count; filtered, nothing else can pass.
		if got := w.Stats().Received - base; got != want && !(all && got > want) {
			t.Errorf("AllFlows=%v: received %d events, want %d", all, got, want)
		}
		if s := w.Stats(); s.KernelFilter == all {
			t.Errorf("AllFlows=%v: KernelFilter=%v", all, s.KernelFilter)
		}
	}
}

func boolPort(b bool) uint16 {
	if b {
		return 1000
	}
	return 0
}

// createFlows creates conntrack entries in the router, from LAN hosts to
// the server, one per destination port, with source ports from sport. The
// i-th flow comes from 192.168.1.(20+i%200), so sessions stay small.
func createFlows(t *testing.T, l *lab.Lab, l4 uint8, sport uint16, dports []uint16) {
	t.Helper()
	c, err := ct.Dial(&netlink.Config{NetNS: l.Router.Fd()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, dp := range dports {
		src := netip.AddrFrom4([4]byte{192, 168, 1, byte(20 + i%200)})
		f := ct.NewFlow(l4, 0, src, lab.Server, sport+uint16(i), dp, 120, 0)
		if err := c.Create(f); err != nil {
			t.Fatalf("create flow to port %d: %v", dp, err)
		}
	}
}

// TestWatchSurvivesOverrun: a tiny socket buffer and a consumer that stops
// reading during a burst make the kernel drop events (ENOBUFS). The watch
// counts the overrun, dumps again and keeps going; the tracker, fed the
// resync, knows every flow of the burst.
func TestWatchSurvivesOverrun(t *testing.T) {
	l := lab.New(t, lab.Config{})
	var called atomic.Int32
	w, events := watching(t, l, conntrack.WatchConfig{ReadBuffer: 4096, OnOverrun: func(conntrack.WatchStats) { called.Add(1) }}, 0)
	tr := diagnose.NewTracker(diagnose.Classifier{LAN: []netip.Prefix{lab.LANPrefix}})
	tr.MaxSessions = 0 // unbounded: one session per flow here
	next(t, events, 5*time.Second, "initial sync", func(ev conntrack.Event) bool { tr.Apply(ev); return isSyncDone(ev) })

	const burst = 400
	ports := make([]uint16, burst)
	for i := range ports {
		ports[i] = vpn.PortIKE
	}
	createFlows(t, l, vpn.ProtoUDP, 10000, ports) // nobody reads meanwhile
	// The tracker must converge on every flow. On a slow (emulated) CPU the
	// overrun and its re-dump can come while the burst is still being
	// created: the rest then arrive as events after the first resync.
	known := func() int {
		n := 0
		for _, sess := range tr.Sessions() {
			n += len(sess.Flows)
		}
		return n
	}
	synced := false
	next(t, events, 20*time.Second, "resync after the overrun covering the whole burst", func(ev conntrack.Event) bool {
		tr.Apply(ev)
		synced = synced || isSyncDone(ev)
		return synced && known() == burst
	})

	s := w.Stats()
	if s.Overruns == 0 || s.Resyncs == 0 || s.LastOverrun.IsZero() {
		t.Fatalf("stats %+v: the overrun was not counted", s)
	}
	if called.Load() == 0 {
		t.Error("OnOverrun was not called")
	}
	// Still watching: a new flow after the overrun arrives as an event.
	createFlows(t, l, vpn.ProtoUDP, 30000, []uint16{vpn.PortNATT})
	next(t, events, 5*time.Second, "event after the overrun", func(ev conntrack.Event) bool { return ev.Type == conntrack.EventNew && toServer(vpn.PortNATT)(ev) })
}

// TestDeleteFootprints deletes only the entries of the footprint asked for.
func TestDeleteFootprints(t *testing.T) {
	l := lab.New(t, lab.Config{})
	serveUDP(t, l, vpn.PortIKE, vpn.PortNATT, vpn.PortL2TP)
	for _, p := range []uint16{vpn.PortIKE, vpn.PortNATT, vpn.PortL2TP} {
		if !exchange(t, l, l.LAN, p) {
			t.Fatalf("UDP %d exchange failed", p)
		}
	}
	sendESP(t, l)
	count := func() map[vpn.Kind]int {
		flows, err := conntrack.DumpFootprint(l.Router.Fd())
		if err != nil {
			t.Fatal(err)
		}
		m := map[vpn.Kind]int{}
		for _, f := range flows {
			m[vpn.KindOf(f.L4, f.Orig.DstPort)]++
		}
		return m
	}
	before := count()
	if before[vpn.KindIKE] != 1 || before[vpn.KindNATT] != 1 || before[vpn.KindL2TP] != 1 || before[vpn.KindESP] != 1 {
		t.Fatalf("before: %v, want one flow each of ike, natt, l2tp, esp", before)
	}
	var n int
	err := l.Router.Do(func() (err error) {
		n, err = conntrack.DeleteFootprints([]conntrack.FlowMatch{{vpn.ProtoUDP, vpn.PortNATT}, {vpn.ProtoESP, 0}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("deleted %d entries, want the udp/4500 and the esp one", n)
	}
	after := count()
	if after[vpn.KindNATT] != 0 || after[vpn.KindESP] != 0 || after[vpn.KindIKE] != 1 || after[vpn.KindL2TP] != 1 {
		t.Fatalf("after: %v, want only ike and l2tp left", after)
	}
}

// sendESP sends one raw ESP packet from the LAN host to the server.
func sendESP(t *testing.T, l *lab.Lab) {
	t.Helper()
	err := l.LAN.Do(func() error {
		c, err := net.ListenPacket("ip4:50", "0.0.0.0")
		if err != nil {
			return err
		}
		defer c.Close()
		spiSeq := []byte{0, 0, 0x10, 0x01, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef}
		_, err = c.WriteTo(spiSeq, &net.IPAddr{IP: lab.Server.AsSlice()})
		return err
	})
	if err != nil {
		t.Fatalf("send ESP: %v", err)
	}
}

// TestEnableAccounting turns accounting on in the router only.
func TestEnableAccounting(t *testing.T) {
	l := lab.New(t, lab.Config{})
	rootBefore, rootErr := os.ReadFile(conntrack.AccountingSysctl)
	var first, second bool
	err := l.Router.Do(func() (err error) {
		if first, err = conntrack.EnableAccounting(); err != nil {
			return err
		}
		second, err = conntrack.EnableAccounting()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !first || second {
		t.Fatalf("changed = %v then %v, want true then false", first, second)
	}
	if v, err := l.Router.ReadSysctl("net.netfilter.nf_conntrack_acct"); err != nil || v != "1" {
		t.Fatalf("router nf_conntrack_acct = %q (%v), want 1", v, err)
	}
	if rootAfter, err := os.ReadFile(conntrack.AccountingSysctl); rootErr == nil && (err != nil || strings.TrimSpace(string(rootAfter)) != strings.TrimSpace(string(rootBefore))) {
		t.Fatalf("the root namespace changed: %q -> %q", rootBefore, rootAfter)
	}
	// Counters now come with the flows. The kernel sends them in dumps and
	// DESTROY events only, not in NEW or UPDATE events.
	serveUDP(t, l, vpn.PortIKE)
	if !exchange(t, l, l.LAN, vpn.PortIKE) {
		t.Fatal("UDP 500 exchange failed")
	}
	flows, err := conntrack.DumpFootprint(l.Router.Fd())
	if err != nil || len(flows) != 1 {
		t.Fatalf("dump: %v %v, want the IKE flow", flows, err)
	}
	if f := flows[0]; !f.Counted || f.CounterOrig.Packets != 1 || f.CounterReply.Packets != 1 {
		t.Fatalf("flow %v counters %+v / %+v, want one packet each way", f, f.CounterOrig, f.CounterReply)
	}
}
