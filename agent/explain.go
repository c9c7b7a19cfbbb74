package agent

import (
	"errors"
	"fmt"
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"

	"github.com/vpnpass/vpnpass/netfilter"
)

// ExplainPacket validates explain's flags into a LAN→WAN packet.
func ExplainPacket(proto, dst, src string, dport int) (pk netfilter.Packet, err error) {
	switch proto {
	case "udp":
		pk.L4 = vpn.ProtoUDP
	case "tcp":
		pk.L4 = vpn.ProtoTCP
	case "gre":
		pk.L4 = vpn.ProtoGRE
	case "esp":
		pk.L4 = vpn.ProtoESP
	case "ah":
		pk.L4 = vpn.ProtoAH
	default:
		return pk, badArg("proto", proto, "must be one of udp, tcp, gre, esp, ah")
	}
	a, err := netip.ParseAddr(dst)
	if err != nil {
		return pk, badArg("dst", dst, "must be an IP address")
	}
	pk.Dst, pk.Family = a.Unmap(), vpn.IPv4
	if a.Is6() && !a.Is4In6() {
		pk.Family = vpn.IPv6
	}
	if src != "" {
		s, err := netip.ParseAddr(src)
		if err != nil {
			return pk, badArg("src", src, "must be an IP address")
		}
		pk.Src = s.Unmap()
	}
	if (pk.L4 == vpn.ProtoUDP || pk.L4 == vpn.ProtoTCP) && (dport < 1 || dport > 65535) {
		return pk, errors.New("dport: a port from 1 to 65535 is needed for udp and tcp")
	}
	pk.DstPort, pk.SrcPort, pk.CtState = uint16(dport), 40000, "new"
	return pk, nil
}

// badArg is the error of an argument that cannot be used: `name "value":
// must ...` (one fmt call site for all of them).
func badArg(name, value, must string) error {
	return fmt.Errorf("%s %q: %s", name, value, must)
}
