package vpn

import "strconv"

// Family is an address family as the API spells it (docs/interface.md#status).
type Family string

// Families.
const (
	IPv4 Family = "ipv4"
	IPv6 Family = "ipv6"
)

// IP protocol numbers of the footprints.
const (
	ProtoTCP uint8 = 6
	ProtoUDP uint8 = 17
	ProtoGRE uint8 = 47
	ProtoESP uint8 = 50
	ProtoAH  uint8 = 51
)

// Well-known ports of the footprints.
const (
	PortIKE       = 500
	PortNATT      = 4500
	PortL2TP      = 1701
	PortPPTP      = 1723
	PortOpenVPN   = 1194
	PortWireGuard = 51820
)

// L4Name names an IP protocol as nft and conntrack do: tcp, udp, gre, esp,
// ah; others as proto-N.
func L4Name(l4 uint8) string {
	switch l4 {
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoGRE:
		return "gre"
	case ProtoESP:
		return "esp"
	case ProtoAH:
		return "ah"
	}
	return "proto-" + strconv.Itoa(int(l4))
}

// Kind is which part of a VPN footprint a flow or element is.
type Kind string

// The footprint parts. KindNone: not a VPN flow.
const (
	KindNone      Kind = ""
	KindIKE       Kind = "ike"  // UDP 500
	KindNATT      Kind = "natt" // UDP 4500: IKE after the NAT-T switch and ESP in UDP
	KindESP       Kind = "esp"  // IP protocol 50
	KindAH        Kind = "ah"   // IP protocol 51
	KindL2TP      Kind = "l2tp" // UDP 1701
	KindPPTP      Kind = "pptp" // TCP 1723, the PPTP control connection
	KindGRE       Kind = "gre"  // IP protocol 47, PPTP's data
	KindOpenVPN   Kind = "openvpn"
	KindWireGuard Kind = "wireguard"
)

// part is one row of the footprint table: a kind on one IP protocol and
// destination port (0 for protocols without ports).
type part struct {
	kind  Kind
	proto Protocol
	l4    uint8
	port  uint16
	// control: the protocol's control channel (for IPsec both IKE ports:
	// NAT-T carries IKE after the switch).
	control bool
	// footprint: a LAN→WAN element whose passthrough vpnpass inspects and
	// toggles; v6only: only in IPv6 (AH authenticates the addresses and so
	// can never cross an IPv4 NAT).
	footprint, v6only bool
	// symmetric: clients send from the well-known port too (IKE, NAT-T,
	// L2TP).
	symmetric bool
}

// parts is the footprint table, per protocol in footprint order.
var parts = []part{
	{kind: KindPPTP, proto: PPTP, l4: ProtoTCP, port: PortPPTP, control: true, footprint: true},
	{kind: KindGRE, proto: PPTP, l4: ProtoGRE, footprint: true},
	{kind: KindL2TP, proto: L2TP, l4: ProtoUDP, port: PortL2TP, control: true, footprint: true, symmetric: true},
	{kind: KindIKE, proto: IPsec, l4: ProtoUDP, port: PortIKE, control: true, footprint: true, symmetric: true},
	{kind: KindNATT, proto: IPsec, l4: ProtoUDP, port: PortNATT, control: true, footprint: true, symmetric: true},
	{kind: KindESP, proto: IPsec, l4: ProtoESP, footprint: true},
	{kind: KindAH, proto: IPsec, l4: ProtoAH, footprint: true, v6only: true},
	{kind: KindOpenVPN, proto: OpenVPN, l4: ProtoUDP, port: PortOpenVPN, control: true},
	{kind: KindOpenVPN, proto: OpenVPN, l4: ProtoTCP, port: PortOpenVPN, control: true},
	{kind: KindWireGuard, proto: WireGuard, l4: ProtoUDP, port: PortWireGuard, control: true},
}

// KindOf classifies a flow or element by IP protocol and destination port.
// Port is ignored for protocols without ports.
func KindOf(l4 uint8, dport uint16) Kind {
	for _, p := range parts {
		if p.l4 == l4 && (p.port == 0 || p.port == dport) {
			return p.kind
		}
	}
	return KindNone
}

// Protocol returns the VPN protocol the part belongs to.
func (k Kind) Protocol() Protocol {
	for _, p := range parts {
		if p.kind == k {
			return p.proto
		}
	}
	return ""
}

// Control reports whether the part is its protocol's control channel.
func (k Kind) Control() bool {
	for _, p := range parts {
		if p.kind == k {
			return p.control
		}
	}
	return false
}

// Symmetric reports whether clients of the part send from its well-known
// port too (IKE, NAT-T and L2TP do).
func (k Kind) Symmetric() bool {
	for _, p := range parts {
		if p.kind == k {
			return p.symmetric
		}
	}
	return false
}

// Match is the API's match string of the part (its first entry for a
// part on several transports): udp/500, esp.
func (k Kind) Match() string {
	for _, p := range parts {
		if p.kind == k {
			return Element{L4: p.l4, Port: p.port}.Match()
		}
	}
	return string(k)
}

// Ports lists the destination ports of every part on IP protocol l4 (TCP or
// UDP), each once, in table order: what the kernel-side flow filter passes.
func Ports(l4 uint8) []uint16 {
	var out []uint16
	seen := map[uint16]bool{}
	for _, p := range parts {
		if p.l4 == l4 && p.port != 0 && !seen[p.port] {
			seen[p.port] = true
			out = append(out, p.port)
		}
	}
	return out
}

// PortlessL4 lists the IP protocols of parts without ports (GRE, ESP, AH).
func PortlessL4() []uint8 {
	var out []uint8
	for _, p := range parts {
		if p.port == 0 {
			out = append(out, p.l4)
		}
	}
	return out
}

// Element is one piece of a protocol's footprint in one family.
type Element struct {
	Family Family
	L4     uint8  // IP protocol number
	Port   uint16 // destination port for TCP/UDP, 0 otherwise
}

// Match renders the element as the API's "match" string: udp/500, gre,
// esp (docs/interface.md#status).
func (e Element) Match() string {
	switch e.L4 {
	case ProtoTCP, ProtoUDP:
		return L4Name(e.L4) + "/" + strconv.Itoa(int(e.Port))
	case ProtoGRE, ProtoESP, ProtoAH:
		return L4Name(e.L4)
	}
	return "proto/" + strconv.Itoa(int(e.L4))
}

// Kind returns the footprint part the element is.
func (e Element) Kind() Kind { return KindOf(e.L4, e.Port) }

// Footprint returns the LAN→WAN footprint of p in both families: IPv4 first,
// each family in table order. PPTP's helper is IPv4 only (GRE through NAT)
// but its footprint is inspected in both; AH is IPv6 only. Observed-only
// protocols have none.
func Footprint(p Protocol) []Element {
	var out []Element
	for _, f := range []Family{IPv4, IPv6} {
		for _, pt := range parts {
			if pt.proto == p && pt.footprint && (f == IPv6 || !pt.v6only) {
				out = append(out, Element{f, pt.l4, pt.port})
			}
		}
	}
	return out
}
