package conntrack_test

import (
	"context"
	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	ct "github.com/ti-mo/conntrack"

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
	var vpnHosts []netip.Addr
	for i := 0; i < n; i++ {
		src := netip.AddrFrom4([4]byte{192, 168, 1, byte(20 + i%200)})
		f := ct.NewFlow(vpn.ProtoUDP, 0, src, lab.Server, uint16(1024+i/200), 53, 120, 0)
		if err := c.Create(f); err != nil {
			tb.Fatalf("create flow %d: %v", i, err)
		}
		if i%every == every-1 {
			h := netip.AddrFrom4([4]byte{10, 1, byte(len(vpnHosts) >> 8), byte(len(vpnHosts))})
			if err := c.Create(ct.NewFlow(vpn.ProtoUDP, 0, h, lab.Server, 500, 500, 120, 0)); err != nil {
				tb.Fatalf("create VPN flow: %v", err)
			}
			vpnHosts = append(vpnHosts, h)
		}
	}
	return vpnHosts
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
	w, events := watching(t, l, conntrack.WatchConfig{}, 0)
	next(t, events, 5*time.Second, "initial sync", isSyncDone)
	done := make(chan []netip.Addr, 1)
	go func() { done <- storm(t, l, 20000, 200) }()
	seen := map[netip.Addr]bool{}
	var vpnHosts []netip.Addr
	timeout := time.After(60 * time.Second)
	for vpnHosts == nil || len(seen) < len(vpnHosts) {
		select {
		case ev := <-events:
			if ev.Type == conntrack.EventNew && ev.Flow.Orig.DstPort == vpn.PortIKE {
				seen[ev.Flow.Orig.Src] = true
			}
		case vpnHosts = <-done:
		case <-timeout:
			t.Fatalf("saw %d of %d VPN flows", len(seen), len(vpnHosts))
		}
	}
	s := w.Stats()
	if s.Overruns != 0 || s.Received != uint64(len(vpnHosts)) {
		t.Fatalf("stats %+v: want %d events received and no overrun", s, len(vpnHosts))
	}
	t.Logf("20000 ordinary flows, %d VPN flows: received %d events, ignored %d", len(vpnHosts), s.Received, s.Ignored)
}

// BenchmarkWatchStorm measures the watch's userspace work per ordinary flow
// in a storm: with the kernel filter it should be near zero.
func BenchmarkWatchStorm(b *testing.B) {
	l := lab.New(b, lab.Config{})
	w := conntrack.NewWatcher(conntrack.WatchConfig{NetNS: l.Router.Fd()})
	events := make(chan conntrack.Event, 4096)
	go drainEvents(events)
	stop := startBench(b, w, events)
	defer stop()
	b.ResetTimer()
	storm(b, l, b.N, 1000)
	b.StopTimer()
	s := w.Stats()
	b.ReportMetric(float64(s.Received)/float64(b.N), "events/flow")
}

func drainEvents(ch <-chan conntrack.Event) {
	for range ch {
	}
}

// startBench runs w until the returned stop is called, after its initial
// sync was delivered.
func startBench(b *testing.B, w *conntrack.Watcher, events chan conntrack.Event) (stop func()) {
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
