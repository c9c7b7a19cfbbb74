package conntrack

import (
	"net/netip"

	"github.com/vpnpass/vpnpass/netfilter"
)

// Observed-only protocols: vpnpass diagnoses them but never toggles them, so
// they extend netfilter's Protocol values instead of joining netfilter.Protocols.
const (
	OpenVPN   netfilter.Protocol = "openvpn"
	WireGuard netfilter.Protocol = "wireguard"
)

// VPNKind is which part of a VPN footprint a flow is.
type VPNKind string

// The footprint pieces we recognise. KindNone: not a VPN flow.
const (
	KindNone      VPNKind = ""
	KindIKE       VPNKind = "ike"  // UDP 500
	KindNATT      VPNKind = "natt" // UDP 4500: IKE after the NAT-T switch and ESP in UDP
	KindESP       VPNKind = "esp"  // IP protocol 50
	KindAH        VPNKind = "ah"   // IP protocol 51
	KindL2TP      VPNKind = "l2tp" // UDP 1701
	KindPPTP      VPNKind = "pptp" // TCP 1723, the PPTP control connection
	KindGRE       VPNKind = "gre"  // IP protocol 47, PPTP's data
	KindOpenVPN   VPNKind = "openvpn"
	KindWireGuard VPNKind = "wireguard"
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

// Protocol returns the VPN protocol family the piece belongs to.
func (k VPNKind) Protocol() netfilter.Protocol {
	switch k {
	case KindIKE, KindNATT, KindESP, KindAH:
		return netfilter.IPsec
	case KindL2TP:
		return netfilter.L2TP
	case KindPPTP, KindGRE:
		return netfilter.PPTP
	case KindOpenVPN:
		return OpenVPN
	case KindWireGuard:
		return WireGuard
	}
	return ""
}

// KindOf classifies a footprint element by IP protocol and destination port.
// Port is ignored for protocols without ports.
func KindOf(l4 uint8, dport uint16) VPNKind {
	switch l4 {
	case netfilter.ProtoESP:
		return KindESP
	case netfilter.ProtoAH:
		return KindAH
	case netfilter.ProtoGRE:
		return KindGRE
	case netfilter.ProtoUDP:
		switch dport {
		case PortIKE:
			return KindIKE
		case PortNATT:
			return KindNATT
		case PortL2TP:
			return KindL2TP
		case PortOpenVPN:
			return KindOpenVPN
		case PortWireGuard:
			return KindWireGuard
		}
	case netfilter.ProtoTCP:
		switch dport {
		case PortPPTP:
			return KindPPTP
		case PortOpenVPN:
			return KindOpenVPN
		}
	}
	return KindNone
}

// Role says which way a flow crosses the router.
type Role uint8

// Roles. Sessions are built from RoleLAN and RoleRouter flows; RoleInbound
// flows are kept as evidence (a PPTP server's GRE arriving at the router
// itself because no helper mapped it to the LAN host).
const (
	RoleNone     Role = iota // not a VPN flow
	RoleLAN                  // a LAN host to the outside, forwarded (and usually NATed)
	RoleRouter               // the router's own connection to the outside
	RoleInbound              // the outside to the router or to a LAN host
	RoleInternal             // inside the LAN or between the LAN and the router
)

func (r Role) String() string {
	return [...]string{"none", "lan", "router", "inbound", "internal"}[r]
}

// Classifier tells LAN hosts, the router and the outside apart. It is a plain
// value: build it from the LAN prefixes and the router's own addresses.
type Classifier struct {
	LAN   []netip.Prefix // the LAN prefixes, e.g. 192.168.1.0/24
	Local []netip.Addr   // every address of the router (LAN and WAN side)
}

// Classify returns the footprint piece and the direction of a flow. An
// initiator with a well-known source port (IKE 500→500 from a server) is
// classified by its destination port like any other flow.
func (c Classifier) Classify(f Flow) (VPNKind, Role) {
	k := KindOf(f.L4, f.Orig.DstPort)
	if k == KindNone {
		return KindNone, RoleNone
	}
	return k, c.role(f.Orig.Src, f.Orig.Dst)
}

func (c Classifier) role(src, dst netip.Addr) Role {
	srcIn, srcLocal := c.inLAN(src), c.isLocal(src)
	dstIn, dstLocal := c.inLAN(dst), c.isLocal(dst)
	switch {
	case srcLocal && (dstIn || dstLocal):
		return RoleInternal
	case srcLocal:
		return RoleRouter
	case srcIn && (dstIn || dstLocal):
		return RoleInternal
	case srcIn:
		return RoleLAN
	default:
		return RoleInbound
	}
}

func (c Classifier) inLAN(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range c.LAN {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (c Classifier) isLocal(a netip.Addr) bool {
	a = a.Unmap()
	for _, l := range c.Local {
		if l.Unmap() == a {
			return true
		}
	}
	return false
}
