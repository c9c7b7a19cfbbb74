package observer

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"

	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/diagnose"
	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/vpn"
)

// The lab helpers below are conntrack's own test helpers (watch_linux_test.go),
// repeated: the observer is tested together with the watcher and tracker it
// feeds.

func serveUDP(t *testing.T, l *lab.Lab, ports ...uint16) {
	t.Helper()
	for _, p := range ports {
		if _, err := l.Inet.ServeUDPEcho(netip.AddrPortFrom(lab.Server, p)); err != nil {
			t.Fatal(err)
		}
	}
}

// exchange sends one UDP datagram to the server and reports whether the
// echo came back.
func exchange(t *testing.T, l *lab.Lab, from *lab.Node, port uint16) bool {
	t.Helper()
	_, _, err := lab.UDPExchange(from, netip.AddrPortFrom(lab.Server, port), []byte("x"), 500*time.Millisecond)
	return err == nil
}

// watching runs a conntrack watcher in the router until the test ends.
func watching(t *testing.T, l *lab.Lab) chan conntrack.Event {
	t.Helper()
	w := conntrack.NewWatcher(conntrack.WatchConfig{NetNS: l.Router.Fd()})
	events := make(chan conntrack.Event, 64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, events) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch ended with %v", err)
		}
	})
	return events
}

// waitSync waits for the watcher's initial dump to end.
func waitSync(t *testing.T, events <-chan conntrack.Event) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Type == conntrack.EventSyncDone {
				return
			}
		case <-deadline:
			t.Fatal("no initial sync within 5s")
		}
	}
}

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

// sendUDP sends one datagram from a node without waiting for an answer.
func sendUDP(t *testing.T, from *lab.Node, dst netip.AddrPort, payload []byte) {
	t.Helper()
	err := from.Do(func() error {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(dst))
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write(payload)
		return err
	})
	if err != nil {
		t.Fatalf("send UDP to %s: %v", dst, err)
	}
}

var (
	ikePayload      = []byte{0, 0, 0, 0, 'i', 'k', 'e', '-', 'h', 'd', 'r', '!'} // non-ESP marker
	espInUDPPayload = []byte{0, 0, 0x10, 0x01, 0, 0, 0, 1, 1, 2, 3, 4}           // SPI 0x1001
	keepalive       = []byte{0xff}
)

func ensureObserver(t *testing.T, l *lab.Lab) Table {
	t.Helper()
	o := Table{NetNS: l.Router.Fd()}
	if err := o.Ensure([]string{lab.LANDevice}); err != nil {
		t.Fatal(err)
	}
	return o
}

// entries reads the counters as the diagnosis gets them.
func entries(t *testing.T, o Table) []vpn.ObserverEntry {
	t.Helper()
	out, err := o.Read()
	if err != nil {
		t.Fatal(err)
	}
	// Every entry carries the kernel's expiry and a counter that counted.
	for _, e := range out {
		if e.Expires <= 0 || e.Expires > Timeout*time.Second || e.Packets == 0 || e.Bytes < e.Packets {
			t.Fatalf("entry %+v: want 0 < expires <= %ds and a counter", e, Timeout)
		}
	}
	return out
}

func readObserver(t *testing.T, o Table) map[string]uint64 {
	t.Helper()
	m := map[string]uint64{}
	for _, e := range entries(t, o) {
		m[e.Host.String()+" "+e.Peer.String()+" "+string(e.Element)+" "+string(e.Direction)] += e.Packets
	}
	return m
}

// TestObserverSeesWhatTheFilterDrops: the router's own forward chain drops
// every new LAN→WAN flow (nftables-drop). Conntrack never confirms an entry
// and sends no event, yet the observer counts each footprint element, and
// the tracker turns that into firewall-drops.
func TestObserverSeesWhatTheFilterDrops(t *testing.T) {
	l := lab.New(t, lab.Config{Firewalls: []lab.Firewall{lab.NftablesDrop}})
	serveUDP(t, l, vpn.PortIKE, vpn.PortNATT)
	o := ensureObserver(t, l)
	events := watching(t, l)
	waitSync(t, events)
	tr := diagnose.NewTracker(diagnose.Classifier{LAN: []netip.Prefix{lab.LANPrefix}, Local: []netip.Addr{lab.RouterLAN, l.RouterWAN.Addr()}})
	tr.Observe(entries(t, o), time.Now())

	if exchange(t, l, l.LAN, vpn.PortIKE) {
		t.Fatal("UDP 500 passed a forward chain that drops it")
	}
	sendUDP(t, l.LAN, netip.AddrPortFrom(lab.Server, vpn.PortNATT), ikePayload)
	sendUDP(t, l.LAN, netip.AddrPortFrom(lab.Server, vpn.PortNATT), espInUDPPayload)
	sendUDP(t, l.LAN, netip.AddrPortFrom(lab.Server, vpn.PortNATT), keepalive)
	sendESP(t, l)

	got := readObserver(t, o)
	prefix := lab.LANHost.String() + " " + lab.Server.String() + " "
	for _, el := range []vpn.ObserverElement{vpn.ObsIKE, vpn.ObsIKE4500, vpn.ObsESPInUDP, vpn.ObsESP} {
		if got[prefix+string(el)+" out"] != 1 {
			t.Errorf("%s out: %d packets, want 1 (all: %v)", el, got[prefix+string(el)+" out"], got)
		}
	}
	for k := range got {
		if strings.HasSuffix(k, " in") {
			t.Errorf("an answer was counted although nothing passed: %s", k)
		}
	}
	if flows, err := conntrack.DumpFootprint(l.Router.Fd()); err != nil || len(flows) != 0 {
		t.Fatalf("conntrack holds %v (%v), want no confirmed entry", flows, err)
	}
	select {
	case ev := <-events:
		t.Fatalf("conntrack reported %s %v for a dropped packet", ev.Type, ev.Flow)
	case <-time.After(200 * time.Millisecond):
	}
	tr.Observe(entries(t, o), time.Now())
	fs := tr.Judge(diagnose.Context{Now: time.Now().Add(diagnose.QuietAfter + time.Second), RouterNATs: true})
	if len(fs) != 1 || fs[0].Code != diagnose.CodeFirewallDrops {
		t.Fatalf("findings %+v, want firewall-drops", fs)
	}
}

// TestObserverCountsAnswers: without a firewall both directions count, over
// IPv4 and IPv6, and the conntrack entry exists beside the IPv4 counter.
func TestObserverCountsAnswers(t *testing.T) {
	l := lab.New(t, lab.Config{IPv6: true})
	serveUDP(t, l, vpn.PortIKE)
	if _, err := l.Inet.ServeUDPEcho(netip.AddrPortFrom(lab.Server6, vpn.PortL2TP)); err != nil {
		t.Fatal(err)
	}
	o := ensureObserver(t, l)
	if !exchange(t, l, l.LAN, vpn.PortIKE) {
		t.Fatal("UDP 500 exchange failed")
	}
	if _, _, err := lab.UDPExchange(l.LAN, netip.AddrPortFrom(lab.Server6, vpn.PortL2TP), []byte("x"), time.Second); err != nil {
		t.Fatalf("IPv6 UDP 1701 exchange: %v", err)
	}
	got := readObserver(t, o)
	want := []string{
		lab.LANHost.String() + " " + lab.Server.String() + " udp/500 out",
		lab.LANHost.String() + " " + lab.Server.String() + " udp/500 in",
		lab.LANHost6.String() + " " + lab.Server6.String() + " udp/1701 out",
		lab.LANHost6.String() + " " + lab.Server6.String() + " udp/1701 in",
	}
	for _, k := range want {
		if got[k] != 1 {
			t.Errorf("%s: %d packets, want 1 (all: %v)", k, got[k], got)
		}
	}
	// The IPv4 flow is tracked. (IPv6 is too since the observer's inbound
	// rule asks `ct direction`, which registers conntrack for both families
	// of its inet table, as fw4's rules do on every OpenWrt router.)
	flows, err := conntrack.DumpFootprint(l.Router.Fd())
	var v4 []conntrack.Flow
	for _, f := range flows {
		if f.Orig.Src.Is4() {
			v4 = append(v4, f)
		}
	}
	if err != nil || len(v4) != 1 || v4[0].Orig.Src != lab.LANHost {
		t.Fatalf("conntrack: %v %v, want the IPv4 flow", flows, err)
	}
}

// TestObserverEnsureKeepsCountersAndRepairs: Ensure on an intact table only
// replaces the LAN devices (counters survive); a damaged table is rebuilt;
// Remove removes it and is idempotent.
func TestObserverEnsureKeepsCountersAndRepairs(t *testing.T) {
	lab.RequireBinaries(t, "nft")
	l := lab.New(t, lab.Config{})
	serveUDP(t, l, vpn.PortIKE)
	o := ensureObserver(t, l)
	exchange(t, l, l.LAN, vpn.PortIKE)
	key := lab.LANHost.String() + " " + lab.Server.String() + " udp/500 out"
	if err := o.Ensure([]string{lab.LANDevice, "lan9"}); err != nil {
		t.Fatal(err)
	}
	if got := readObserver(t, o); got[key] != 1 {
		t.Fatalf("after a second Ensure: %v, want the counter kept", got)
	}
	out, err := l.Router.Run("nft", "list", "set", "inet", TableName, obsSetLAN)
	if err != nil || !strings.Contains(string(out), `"lan9"`) {
		t.Fatalf("LAN devices not updated: %s %v", out, err)
	}
	if out, err := l.Router.Run("nft", "delete", "chain", "inet", TableName, obsChainOutput); err != nil {
		t.Fatalf("damage the table: %v %s", err, out)
	}
	if err := o.Ensure([]string{lab.LANDevice}); err != nil {
		t.Fatal(err)
	}
	out, err = l.Router.Run("nft", "list", "chain", "inet", TableName, obsChainOutput)
	if err != nil || !strings.Contains(string(out), "hook output priority filter - 10") {
		t.Fatalf("output chain not rebuilt: %s %v", out, err)
	}
	for i := 0; i < 2; i++ {
		if err := o.Remove(); err != nil {
			t.Fatalf("remove #%d: %v", i+1, err)
		}
	}
	if _, err := o.Read(); err == nil {
		t.Fatal("Read after Remove succeeded")
	}
	if out, _ := l.Router.Run("nft", "list", "tables"); strings.Contains(string(out), TableName) {
		t.Fatalf("table still there: %s", out)
	}
}

// TestEnsureIntactWritesNothing: ensuring an intact observer with the same
// LAN devices must cause no ruleset event. The agent repairs on every
// ruleset event and a repair ensures the observer: a write here looped.
func TestEnsureIntactWritesNothing(t *testing.T) {
	l := lab.New(t, lab.Config{})
	o := ensureObserver(t, l)
	conn, err := nftables.New(nftables.WithNetNSFd(l.Router.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	mon := nftables.NewMonitor(nftables.WithMonitorAction(nftables.MonitorActionAny),
		nftables.WithMonitorObject(nftables.MonitorObjectTables|nftables.MonitorObjectChains|nftables.MonitorObjectRules))
	events, err := conn.AddMonitor(mon)
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	for i := 0; i < 3; i++ {
		if err := o.Ensure([]string{lab.LANDevice}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case ev := <-events:
		t.Fatalf("Ensure of an intact observer changed the ruleset: event %+v", ev)
	case <-time.After(500 * time.Millisecond):
	}
	// A changed LAN still reaches the kernel.
	if err := o.Ensure([]string{lab.LANDevice, "lan9"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-events:
	case <-time.After(2 * time.Second):
		t.Fatal("a changed LAN device list was not written")
	}
}
