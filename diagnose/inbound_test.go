package diagnose

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/vpn"
)

// inFlow is a client's flow from the internet (server stands in for the
// client) to the router's WAN address; to is the LAN host a port forward
// chose (invalid: none, the router keeps it).
func inFlow(id uint32, l4 uint8, dport uint16, to netip.Addr, answered bool) conntrack.Event {
	f := fl(id, l4, server, dport, wanIP, dport, false)
	if to.IsValid() {
		f.Reply.Src = to
	}
	if answered {
		f.Status |= conntrack.StatusSeenReply
	}
	return conntrack.Event{Type: conntrack.EventNew, Time: t0, Flow: f}
}

func TestInboundJudge(t *testing.T) {
	configured := map[netip.Addr][]vpn.Protocol{hostA: {vpn.IPsec}}
	double := NATVerdict{Code: vpn.NATDouble, Address: "192.168.0.2"}
	cases := []struct {
		name    string
		events  []conntrack.Event
		obs     []vpn.ObserverEntry // after an empty baseline
		nat     NATVerdict
		servers map[netip.Addr][]vpn.Protocol
		after   time.Duration
		want    []string // code host param
	}{
		{name: "nothing forwards ike: the configured server is named",
			events: []conntrack.Event{inFlow(1, vpn.ProtoUDP, 500, netip.Addr{}, false)}, servers: configured, after: 11 * time.Second,
			want: []string{"inbound-not-forwarded 192.168.1.10 server=192.168.1.10"}},
		{name: "nothing forwards pptp, no server configured",
			events: []conntrack.Event{inFlow(1, vpn.ProtoTCP, 1723, netip.Addr{}, false)}, after: 11 * time.Second,
			want: []string{"inbound-not-forwarded  matches=[tcp/1723 gre]"}},
		{name: "forwarded but the lan host never answers",
			events: []conntrack.Event{inFlow(1, vpn.ProtoUDP, 500, hostB, false)}, servers: configured, after: 11 * time.Second,
			want: []string{"inbound-not-forwarded 192.168.1.11 forwarded_to=192.168.1.11"}},
		{name: "forwarded and answered",
			events:  []conntrack.Event{inFlow(1, vpn.ProtoUDP, 500, hostA, true), inFlow(2, vpn.ProtoUDP, 4500, hostA, false)},
			servers: configured, after: time.Minute},
		{name: "not judged before 10 s",
			events: []conntrack.Event{inFlow(1, vpn.ProtoUDP, 500, netip.Addr{}, false)}, after: 5 * time.Second},
		{name: "dropped at input: the observer alone saw it",
			obs:   []vpn.ObserverEntry{{Host: wanIP, Peer: server, Element: vpn.ObsIKE, Direction: vpn.DirWAN, Packets: 4}},
			after: 11 * time.Second, servers: configured,
			want: []string{"inbound-not-forwarded 192.168.1.10 wan_address=198.51.100.2"}},
		{name: "outbound observer counts are not inbound attempts",
			obs:   []vpn.ObserverEntry{{Host: hostA, Peer: server, Element: vpn.ObsIKE, Direction: vpn.DirOut, Packets: 4}},
			after: 11 * time.Second},
		{name: "double nat and nothing arrives", nat: double, servers: configured,
			want: []string{"inbound-behind-double-nat 192.168.1.10 matches=[udp/500 udp/4500]"}},
		{name: "double nat, but attempts arrive: the upstream forwards", nat: double, servers: configured,
			events: []conntrack.Event{inFlow(1, vpn.ProtoUDP, 500, hostA, true)}, after: time.Minute},
		{name: "nat-ok: no double-nat finding", nat: NATVerdict{Code: vpn.NATOK}, servers: configured},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := NewInboundTracker(testNet)
			for _, ev := range c.events {
				tr.Apply(ev)
			}
			tr.ObserveWAN(nil, t0)
			tr.ObserveWAN(c.obs, t0)
			fs := tr.Judge(InboundContext{Now: t0.Add(c.after), NAT: c.nat, Servers: c.servers})
			if len(fs) != len(c.want) {
				t.Fatalf("%d findings %v, want %v", len(fs), codes(fs), c.want)
			}
			for i, f := range fs {
				parts := strings.SplitN(c.want[i], " ", 3)
				k, v, _ := strings.Cut(parts[2], "=")
				if string(f.Code) != parts[0] || f.Host != parts[1] || paramText(f.Params[k]) != v {
					t.Errorf("finding %s host %q %s=%v, want %s", f.Code, f.Host, k, f.Params[k], c.want[i])
				}
				if strings.Contains(f.Message, "{") || strings.Contains(f.Advice, "{") || f.Advice == "" {
					t.Errorf("unfilled text: %q / %q", f.Message, f.Advice)
				}
			}
		})
	}
}

func paramText(v any) string {
	if ss, ok := v.([]string); ok {
		return "[" + strings.Join(ss, " ") + "]"
	}
	if v == nil {
		return ""
	}
	return v.(string)
}

func codes(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f.Code)+" "+f.Host+": "+f.Message)
	}
	return out
}

// TestWithoutInbound: the observer's counts between a LAN server and its
// client on the WAN are not an outbound session; other hosts' counts stay.
func TestWithoutInbound(t *testing.T) {
	tr := NewInboundTracker(testNet)
	if got := tr.WithoutInbound(nil); got != nil {
		t.Fatalf("nil became %v", got)
	}
	tr.Apply(inFlow(1, vpn.ProtoUDP, 500, hostA, true))
	entries := []vpn.ObserverEntry{
		{Host: hostA, Peer: server, Element: vpn.ObsIKE, Direction: vpn.DirOut, Packets: 2},
		{Host: hostA, Peer: server, Element: vpn.ObsIKE, Direction: vpn.DirIn, Packets: 2},
		{Host: hostB, Peer: server, Element: vpn.ObsIKE, Direction: vpn.DirOut, Packets: 1},
	}
	got := tr.WithoutInbound(entries)
	if len(got) != 1 || got[0].Host != hostB {
		t.Fatalf("kept %+v, want only %s's count", got, hostB)
	}
}

// TestInboundScanBounded: a scan from thousands of distinct sources on a
// VPN port (each source an unanswered attempt, each judged a finding) keeps
// at most maxInboundAttempts attempts, so at most that many findings (plus
// the few double-NAT ones) live on a router under a scan: the newest
// sources, the oldest evicted first.
func TestInboundScanBounded(t *testing.T) {
	const sources = 4 * maxInboundAttempts
	tr := NewInboundTracker(testNet)
	for i := 0; i < sources; i++ {
		ev := inFlow(uint32(i+1), vpn.ProtoUDP, 4500, netip.Addr{}, false)
		ev.Flow.Orig.Src = netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
		ev.Time = t0.Add(time.Duration(i) * time.Millisecond)
		tr.Apply(ev)
		// The observer's counts of the same scan are attempts too.
		peer := netip.AddrFrom4([4]byte{198, 19, byte(i >> 8), byte(i)})
		tr.ObserveWAN([]vpn.ObserverEntry{{Host: wanIP, Peer: peer, Element: vpn.ObsIKE, Direction: vpn.DirWAN, Packets: 1}},
			t0.Add(time.Duration(i)*time.Millisecond))
	}
	if n := len(tr.Attempts()); n != maxInboundAttempts {
		t.Fatalf("%d attempts kept after a scan from %d sources, want %d", n, 2*sources, maxInboundAttempts)
	}
	fs := tr.Judge(InboundContext{Now: t0.Add(time.Minute)})
	if len(fs) != maxInboundAttempts {
		t.Fatalf("%d findings after a scan from %d sources, want %d", len(fs), 2*sources, maxInboundAttempts)
	}
	evidence := 0
	for _, f := range fs {
		evidence += len(f.Evidence)
		if f.Peer == "198.18.0.0" {
			t.Errorf("the oldest source %s survived the scan", f.Peer)
		}
	}
	if evidence != maxInboundAttempts {
		t.Errorf("%d evidence entries, want one per attempt (%d)", evidence, maxInboundAttempts)
	}
}
