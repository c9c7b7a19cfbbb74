package diagnose

import (
	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"
)

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
func (c Classifier) Classify(f conntrack.Flow) (vpn.Kind, Role) {
	k := vpn.KindOf(f.L4, f.Orig.DstPort)
	if k == vpn.KindNone {
		return vpn.KindNone, RoleNone
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
