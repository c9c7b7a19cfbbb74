package fw

import (
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
)

// InspectOptions describe the router for an inspection.
type InspectOptions struct {
	LANDevices []string
	WANDevice  string
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

// lanToWAN is the representative first packet of a footprint element: from
// the LAN device out of the WAN device, conntrack state new. Addresses stay
// unknown, so a rule that matches on them makes the verdict uncertain.
func lanToWAN(e vpn.Element, o InspectOptions) netfilter.Packet {
	p := netfilter.Packet{Family: e.Family, L4: e.L4, DstPort: e.Port, SrcPort: 40000, CtState: "new", OutIf: o.WANDevice}
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
func wanToLAN(e vpn.Element, o InspectOptions) netfilter.Packet {
	p := lanToWAN(e, o)
	p.InIf, p.OutIf = o.WANDevice, p.InIf
	p.SrcPort, p.DstPort = p.DstPort, p.SrcPort
	p.CtState, p.CtDirection = "established", "reply"
	if e.L4 == vpn.ProtoGRE {
		// The first GRE of the call starts the expected connection: related,
		// and its direction depends on which side the expectation matched.
		p.CtState, p.CtDirection = "related", ""
	}
	return p
}

// evaluateProtocols runs every footprint element of every protocol through
// the forward chains of all firewalls (pure given the chains; tested).
func evaluateProtocols(chains map[vpn.Family][]netfilter.Chain, o InspectOptions) map[vpn.Protocol]netfilter.ProtoStatus {
	out := map[vpn.Protocol]netfilter.ProtoStatus{}
	for _, p := range vpn.Toggled {
		ps := netfilter.ProtoStatus{Mode: o.Desired.Mode(p), Drift: o.Drift[p], Elements: []netfilter.ElementStatus{}}
		for _, e := range vpn.Footprint(p) {
			ex := netfilter.EvaluateHook(chains[e.Family], lanToWAN(e, o))
			back := netfilter.EvaluateHook(chains[e.Family], wanToLAN(e, o))
			ps.Elements = append(ps.Elements, netfilter.ElementStatus{
				Element: e, Match: e.Match(), Family: e.Family, Verdict: ex.Verdict, DecidedBy: ex.DecidedBy, Replies: back.Verdict,
			})
			if e.Family == vpn.IPv4 {
				ps.Verdict = netfilter.Worst(ps.Verdict, ex.Verdict)
			}
		}
		out[p] = ps
	}
	return out
}
