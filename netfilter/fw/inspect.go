package fw

import (
	"net"
	"net/netip"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
)

// InspectOptions describe the router for an inspection.
type InspectOptions struct {
	LANDevices []string
	WANDevice  string
	// LANPrefixes are the LAN's networks, where the arbitrary LAN host an
	// element's verdict is for lives; Inspect reads them from LANDevices
	// when empty. Without one for a family, the source stays unknown.
	LANPrefixes []netip.Prefix
	// Desired and Drift fill each protocol's mode and drift flag.
	Desired netfilter.Desired
	Drift   map[vpn.Protocol]bool
}

// Inspection is the firewall part of the status.
type Inspection struct {
	Detection   Detection
	Protocols   map[vpn.Protocol]netfilter.ProtoStatus
	Masquerade  bool
	FlowOffload string
	// PPTPAssignedBy names who assigns the pptp helper ("vpnpass", "fw4", ...).
	PPTPAssignedBy []string
}

// Hooks are the base chains a forwarded packet meets, per family, and the
// host values their rules compare with (netfilter.HostValue).
type Hooks struct {
	Prerouting, Forward map[vpn.Family][]netfilter.Chain
	Values              map[vpn.Family][]netfilter.HostValue
	// PreroutingUnknown says that chains we cannot evaluate also run at
	// prerouting: marks and DNAT are unknown at forward.
	PreroutingUnknown bool
}

// host is who an evaluation is for: the LAN host's address and MAC and the
// server's address (invalid/nil: unknown).
type host struct {
	src, dst netip.Addr
	mac      net.HardwareAddr
}

// lanToWAN is the representative first packet of a footprint element: from
// the LAN device out of the WAN device, conntrack state new, unmarked as it
// arrives (nothing but our prerouting chains marks it; Hooks.Prerouting
// runs those).
func lanToWAN(e vpn.Element, o InspectOptions, h host) netfilter.Packet {
	p := netfilter.Packet{Family: e.Family, L4: e.L4, DstPort: e.Port, SrcPort: 40000, CtState: "new", OutIf: o.WANDevice,
		Src: h.src, Dst: h.dst, SrcMAC: h.mac, Mark: netfilter.U32(0), CtMark: netfilter.U32(0), DNAT: netfilter.Bool(false)}
	if e.Kind().Symmetric() {
		p.SrcPort = e.Port // IKE, NAT-T and L2TP clients use the well-known port as source too
	}
	if len(o.LANDevices) > 0 {
		p.InIf = o.LANDevices[0]
	}
	return p
}

// wanToLAN is the server's answer to lanToWAN: into the WAN device, out of
// the LAN device, an established flow (GRE of a PPTP call arrives related,
// through the helper's expectation).
func wanToLAN(e vpn.Element, o InspectOptions, h host) netfilter.Packet {
	p := lanToWAN(e, o, h)
	p.InIf, p.OutIf = o.WANDevice, p.InIf
	p.SrcPort, p.DstPort = p.DstPort, p.SrcPort
	p.Src, p.Dst, p.SrcMAC = h.dst, h.src, nil
	p.CtState, p.CtDirection = "established", "reply"
	p.Mark, p.CtMark, p.DNAT = nil, nil, nil
	if e.L4 == vpn.ProtoGRE {
		// The first GRE of the call starts the expected connection: related,
		// and its direction depends on which side the expectation matched.
		p.CtState, p.CtDirection = "related", ""
	}
	return p
}

// forwardVerdict runs p through prerouting (whose chains may drop it, mark
// it or DNAT it) and then forward, as the kernel does.
func forwardVerdict(hk Hooks, p netfilter.Packet) netfilter.Explanation {
	if hk.PreroutingUnknown {
		p.Mark, p.CtMark, p.DNAT = nil, nil, nil
	}
	if pre := hk.Prerouting[p.Family]; len(pre) > 0 {
		e := netfilter.EvaluateHook(pre, p)
		switch e.Verdict {
		case netfilter.Drop, netfilter.Reject:
			return e
		case netfilter.Uncertain:
			p.Mark, p.CtMark, p.DNAT = nil, nil, nil // what prerouting did is not known
		default:
			if e.After != nil {
				p = *e.After
			}
		}
	}
	return netfilter.EvaluateHook(hk.Forward[p.Family], p)
}

// evaluateProtocols runs every footprint element of every protocol through
// the forward chains of all firewalls (pure given the chains; tested).
func evaluateProtocols(chains map[vpn.Family][]netfilter.Chain, o InspectOptions) map[vpn.Protocol]netfilter.ProtoStatus {
	return evaluateHooks(Hooks{Forward: chains}, o)
}

// evaluateHooks is evaluateProtocols through prerouting and forward, for
// an arbitrary LAN host and server, with the hosts the rules single out as
// exceptions.
func evaluateHooks(hk Hooks, o InspectOptions) map[vpn.Protocol]netfilter.ProtoStatus {
	// The arbitrary hosts, IPv4 then IPv6 (an array: no map of structs).
	reps := [2]host{representative(vpn.IPv4, o.LANPrefixes, hk.Values[vpn.IPv4]),
		representative(vpn.IPv6, o.LANPrefixes, hk.Values[vpn.IPv6])}
	out := map[vpn.Protocol]netfilter.ProtoStatus{}
	for _, p := range vpn.Toggled {
		ps := netfilter.ProtoStatus{Mode: o.Desired.Mode(p), Drift: o.Drift[p], Elements: []netfilter.ElementStatus{}}
		for _, e := range vpn.Footprint(p) {
			h := reps[0]
			if e.Family == vpn.IPv6 {
				h = reps[1]
			}
			ex := forwardVerdict(hk, lanToWAN(e, o, h))
			back := netfilter.EvaluateHook(hk.Forward[e.Family], wanToLAN(e, o, h))
			st := netfilter.ElementStatus{
				Element: e, Match: e.Match(), Family: e.Family, Verdict: ex.Verdict, DecidedBy: ex.DecidedBy, Replies: back.Verdict,
			}
			st.Exceptions = exceptions(hk, o, e, h, ex, hk.Values[e.Family])
			ps.Elements = append(ps.Elements, st)
			if e.Family == vpn.IPv4 {
				ps.Verdict = netfilter.Worst(ps.Verdict, ex.Verdict)
			}
		}
		out[p] = ps
	}
	return out
}

// HostVerdict is the verdict one element's first packet gets from one LAN
// host (src, mac) to one server (dst); an invalid address or nil MAC is
// unknown.
func HostVerdict(hk Hooks, o InspectOptions, e vpn.Element, src, dst netip.Addr, mac net.HardwareAddr) netfilter.Explanation {
	return forwardVerdict(hk, lanToWAN(e, o, host{src: src, dst: dst, mac: mac}))
}
