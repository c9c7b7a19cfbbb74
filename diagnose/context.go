package diagnose

import (
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"
	"time"

	"github.com/vpnpass/vpnpass/helpers"
	"github.com/vpnpass/vpnpass/netfilter"
)

// NATVerdict is the WAN watch's verdict, as far as the diagnosis needs it.
type NATVerdict struct {
	_       incomparable
	Code    vpn.NATCode // "" unknown
	Class   string      // public, private, cgnat, map-e, ds-lite, ...
	Device  string      // WAN device
	Address string      // the router's WAN IPv4 address
	// Upstream names the box to bridge or configure, when UPnP found it.
	Upstream string
}

// DropRule says that this router's own firewall drops (or rejects) one
// footprint element going from the LAN to the WAN, and which rule decides.
// It comes from inspection of the ruleset.
type DropRule struct {
	Element   vpn.Element
	Verdict   netfilter.Verdict // for an arbitrary LAN host: drop, reject, or accept when only exceptions drop
	DecidedBy netfilter.Decider
	// Exceptions are the hosts (or servers) the firewall treats otherwise;
	// a session is judged by the verdict for its own host and server.
	Exceptions []netfilter.Exception
}

// forHost is the rule's verdict for one LAN host talking to one server.
func (d DropRule) forHost(host, server netip.Addr) (netfilter.Verdict, netfilter.Decider) {
	by := d.DecidedBy
	v, x := netfilter.ElementStatus{Verdict: d.Verdict, DecidedBy: &by, Exceptions: d.Exceptions}.For(host, server, nil)
	if x == nil {
		return v, netfilter.Decider{}
	}
	return v, *x
}

// ESPClient is a LAN host sending raw ESP to a server.
type ESPClient struct {
	_        incomparable
	Host     netip.Addr
	Answered bool
	// Confirmed is true when the kernel confirmed a conntrack entry for the
	// host's ESP. Raw ESP has no ports: behind NAT only one host per server
	// gets an entry, the others' packets clash with it and are dropped
	// before confirmation, so only the observer counts them.
	Confirmed bool
	// NATed is true when the confirmed entry shows a rewritten source.
	NATed bool
}

// Context is everything besides the session that the diagnosis reads. The
// agent fills the facts it knows; the Tracker fills the cross-session fields.
type Context struct {
	Now time.Time
	// NAT is the WAN watch's verdict.
	NAT NATVerdict
	// RouterNATs is true when this router masquerades (or SNATs) LAN
	// traffic to the WAN. Flows that show a rewritten source prove it too.
	RouterNATs bool
	// Drops lists the footprint elements this router's firewall drops.
	Drops []DropRule
	// PPTPHelper is the kernel's PPTP helper state; "" when unknown.
	PPTPHelper helpers.State
	// PPTPAssigned is true when some rule assigns the pptp helper to TCP
	// 1723 from the LAN (vpnpass, fw4, ...).
	PPTPAssigned bool
	// Observing is true when the observer table is installed and read: its
	// ESP-in-UDP counts then decide whether data flowed on UDP 4500, instead
	// of the ASSURED bit (which IKE alone sets after two seconds).
	Observing bool
	// HostInfo names a LAN host and its MAC (from DHCP leases, neighbours).
	HostInfo func(netip.Addr) (name, mac string)

	// ESPClients lists, per server, the LAN hosts sending raw ESP to it.
	// The Tracker fills it from all sessions.
	ESPClients map[netip.Addr][]ESPClient
	// IPsecPairs holds the (host, server) pairs with an IPsec session, for
	// L2TP-without-IPsec. The Tracker fills it.
	IPsecPairs map[[2]netip.Addr]bool
}
