package conntrack

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	ct "github.com/ti-mo/conntrack"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/test/lab"
)

// storm creates n ordinary UDP flows in the router with one VPN flow (UDP
// 500 from its own LAN host) after every `every` of them, as fast as
// ctnetlink takes them. It returns the VPN hosts.
func storm(tb testing.TB, l *lab.Lab, n, every int) []netip.Addr {
	tb.Helper()
	c, err := ct.Dial(&netlink.Config{NetNS: l.Router.Fd()})
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	var vpn []netip.Addr
	for i := 0; i < n; i++ {
		src := netip.AddrFrom4([4]byte{192, 168, 1, byte(20 + i%200)})
		f := ct.NewFlow(netfilter.ProtoUDP, 0, src, lab.Server, uint16(1024+i/200), 53, 120, 0)
		if err := c.Create(f); err != nil {
			tb.Fatalf("create flow %d: %v", i, err)
		}
		if i%every == every-1 {
			h := netip.AddrFrom4([4]byte{10, 1, byte(len(vpn) >> 8), byte(len(vpn))})
			if err := c.Create(ct.NewFlow(netfilter.ProtoUDP, 0, h, lab.Server, 500, 500, 120, 0)); err != nil {
				tb.Fatalf("create VPN flow: %v", err)
			}
			vpn = append(vpn, h)
		}
	}
	return vpn
}

// TestStormKeepsVPNFlows: 20k ordinary flows with 100 VPN flows among them.
// The kernel filter keeps the ordinary ones out of userspace, so the socket
// never overflows and every VPN flow arrives as an event, with a buffer no
// bigger than the default.
func TestStormKeepsVPNFlows(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped with -short (the VMs run short)")
	}
	if testing.Short() {
		t.Skip("storm in -short mode")
	}
	l := lab.New(t, lab.Config{})
	w, events := watching(t, l, WatchConfig{}, 0)
	next(t, events, 5*time.Second, "initial sync", isSyncDone)
	done := make(chan []netip.Addr, 1)
	go func() { done <- storm(t, l, 20000, 200) }()
	seen := map[netip.Addr]bool{}
	var vpn []netip.Addr
	timeout := time.After(60 * time.Second)
	for vpn == nil || len(seen) < len(vpn) {
		select {
		case ev := <-events:
			if ev.Type == EventNew && ev.Flow.Orig.DstPort == PortIKE {
				seen[ev.Flow.Orig.Src] = true
			}
		case vpn = <-done:
		case <-timeout:
			t.Fatalf("saw %d of %d VPN flows", len(seen), len(vpn))
		}
	}
	s := w.Stats()
	if s.Overruns != 0 || s.Received != uint64(len(vpn)) {
		t.Fatalf("stats %+v: want %d events received and no overrun", s, len(vpn))
	}
	t.Logf("20000 ordinary flows, %d VPN flows: received %d events, ignored %d", len(vpn), s.Received, s.Ignored)
}

// BenchmarkTrackerApply measures the tracker's cost per VPN event (the
// classification of non-VPN flows included: every third event).
func BenchmarkTrackerApply(b *testing.B) {
	tr := NewTracker(testNet)
	flows := []Flow{udpFlow(1, hostA, 500), udpFlow(2, hostA, 4500), udpFlow(3, hostA, 443)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f := flows[i%3]
		f.ID = uint32(i % 1000)
		tr.Apply(Event{Type: EventUpdate, Flow: f, Time: t0})
	}
}

// BenchmarkWatchStorm measures the watch's userspace work per ordinary flow
// in a storm: with the kernel filter it should be near zero.
func BenchmarkWatchStorm(b *testing.B) {
	l := lab.New(b, lab.Config{})
	w := NewWatcher(WatchConfig{NetNS: l.Router.Fd()})
	events := make(chan Event, 4096)
	go drainEvents(events)
	stop := startBench(b, w, events)
	defer stop()
	b.ResetTimer()
	storm(b, l, b.N, 1000)
	b.StopTimer()
	s := w.Stats()
	b.ReportMetric(float64(s.Received)/float64(b.N), "events/flow")
}

func drainEvents(ch <-chan Event) {
	for range ch {
	}
}

// startBench runs w until the returned stop is called, after its initial
// sync was delivered.
func startBench(b *testing.B, w *Watcher, events chan Event) (stop func()) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, events) }()
	for w.Stats().Delivered == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	return func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("watch: %v", err)
		}
		close(events)
	}
}
