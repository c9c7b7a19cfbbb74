package agent

import (
	"errors"
	"fmt"
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"

	"github.com/vpnpass/vpnpass/netfilter"
)

// ExplainPacket validates explain's flags into a LAN→WAN packet.
func ExplainPacket(proto, dst, src string, dport int) (netfilter.Packet, error) {
	var pk netfilter.Packet
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
		return pk, fmt.Errorf("proto %q: must be one of udp, tcp, gre, esp, ah", proto)
	}
	a, err := netip.ParseAddr(dst)
	if err != nil {
		return pk, fmt.Errorf("dst %q: must be an IP address", dst)
	}
	pk.Dst, pk.Family = a.Unmap(), vpn.IPv4
	if a.Is6() && !a.Is4In6() {
		pk.Family = vpn.IPv6
	}
	if src != "" {
		s, err := netip.ParseAddr(src)
		if err != nil {
			return pk, fmt.Errorf("src %q: must be an IP address", src)
		}
		pk.Src = s.Unmap()
	}
	if (pk.L4 == vpn.ProtoUDP || pk.L4 == vpn.ProtoTCP) && (dport < 1 || dport > 65535) {
		return pk, errors.New("dport: a port from 1 to 65535 is needed for udp and tcp")
	}
	pk.DstPort, pk.SrcPort, pk.CtState = uint16(dport), 40000, "new"
	return pk, nil
}
