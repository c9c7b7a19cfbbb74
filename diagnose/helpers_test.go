package diagnose

import (
	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"
	"time"
)

// Addresses of the synthetic router: LAN 192.168.1.0/24 behind a WAN address
// 198.51.100.2 that masquerades, servers in 203.0.113.0/24.
var (
	t0      = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	hostA   = netip.MustParseAddr("192.168.1.10")
	hostB   = netip.MustParseAddr("192.168.1.11")
	lanIP   = netip.MustParseAddr("192.168.1.1")
	wanIP   = netip.MustParseAddr("198.51.100.2")
	server  = netip.MustParseAddr("203.0.113.10")
	host6   = netip.MustParseAddr("2001:db8:1::10")
	server6 = netip.MustParseAddr("2001:db8:100::10")
	testNet = Classifier{
		LAN:   []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("2001:db8:1::/64")},
		Local: []netip.Addr{lanIP, wanIP, netip.MustParseAddr("2001:db8:1::1")},
	}
)

// fl builds a flow from src to dst. nat rewrites the source to the WAN
// address in the reply tuple, as masquerade does.
func fl(id uint32, l4 uint8, src netip.Addr, sport uint16, dst netip.Addr, dport uint16, nat bool) conntrack.Flow {
	f := conntrack.Flow{ID: id, L4: l4,
		Orig:  conntrack.Tuple{Src: src, Dst: dst, SrcPort: sport, DstPort: dport},
		Reply: conntrack.Tuple{Src: dst, Dst: src, SrcPort: dport, DstPort: sport}}
	if nat {
		f.Reply.Dst = wanIP
	}
	return f
}

func udpFlow(id uint32, src netip.Addr, dport uint16) conntrack.Flow {
	return fl(id, vpn.ProtoUDP, src, 40000+uint16(id), server, dport, true)
}

func withStatus(f conntrack.Flow, s conntrack.Status) conntrack.Flow { f.Status |= s; return f }
func withHelper(f conntrack.Flow, h string) conntrack.Flow           { f.Helper = h; return f }
func withCounters(f conntrack.Flow, op, rp uint64) conntrack.Flow {
	f.Counted = true
	f.CounterOrig = conntrack.Counter{Packets: op, Bytes: op * 100}
	f.CounterReply = conntrack.Counter{Packets: rp, Bytes: rp * 100}
	return f
}

// step is one event at an offset from t0.
type step struct {
	at   time.Duration
	typ  conntrack.EventType
	flow conntrack.Flow
}

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// lifecycle returns the events of a flow that is created at start, answered
// at answer (if >= 0), assured at assured (if >= 0) and destroyed at end
// (if >= 0).
func lifecycle(f conntrack.Flow, start, answer, assured, end time.Duration) []step {
	out := []step{{start, conntrack.EventNew, f}}
	cur := f
	if answer >= 0 {
		cur = withStatus(cur, conntrack.StatusSeenReply)
		out = append(out, step{answer, conntrack.EventUpdate, cur})
	}
	if assured >= 0 {
		cur = withStatus(cur, conntrack.StatusAssured)
		out = append(out, step{assured, conntrack.EventUpdate, cur})
	}
	if end >= 0 {
		out = append(out, step{end, conntrack.EventDestroy, cur})
	}
	return out
}

const never = -1

// obsSnap is an observer snapshot taken at an offset from t0.
type obsSnap struct {
	at      time.Duration
	entries []vpn.ObserverEntry
}

func obs(host netip.Addr, el vpn.ObserverElement, dir vpn.Direction, packets uint64) vpn.ObserverEntry {
	return vpn.ObserverEntry{Host: host, Peer: server, Element: el, Direction: dir, Packets: packets, Bytes: packets * 120, Expires: 10 * time.Minute}
}

// event is one conntrack event (conntrack.Event's fields in order).
func event(typ conntrack.EventType, f conntrack.Flow, at time.Time) conntrack.Event {
	return conntrack.Event{Type: typ, Flow: f, Time: at}
}
