package vpn

// Inbound: a VPN server on the LAN and its clients on the WAN
// (docs/interface.md#status, "inbound").

// DirWAN is the direction of the observer's inbound counts: from the WAN to
// the router's own address on a VPN port (nothing forwarded the packet to a
// LAN host: no DNAT matched). Entries of this direction never belong to an
// outbound session.
const DirWAN Direction = "wan"

// inboundParts lists, per protocol, what a client on the WAN sends to a
// server on the LAN. L2TP is judged on the IPsec that carries it (UDP 500
// and 4500: clients use L2TP/IPsec; L2TP's UDP 1701 travels inside ESP).
// Over IPv4 the server is behind this router's NAT, so IKE switches to
// NAT-T and raw ESP is not needed. PPTP needs its GRE too: over IPv4 it
// reaches the server when the pptp helper follows the forwarded TCP 1723
// (the GRE is then related and NATed with it) or a forward of GRE itself.
// Over IPv6 nothing is translated: ESP must be allowed itself.
// Rows in the order InboundElements returns them; v6only: ESP is needed
// only where nothing is translated. (A table, not maps: map literals cost
// init code.)
var inboundParts = []struct {
	p      Protocol
	l4     uint8
	port   uint16
	v6only bool
}{
	{PPTP, ProtoTCP, PortPPTP, false},
	{PPTP, ProtoGRE, 0, false},
	{L2TP, ProtoUDP, PortIKE, false},
	{L2TP, ProtoUDP, PortNATT, false},
	{IPsec, ProtoUDP, PortIKE, false},
	{IPsec, ProtoUDP, PortNATT, false},
	{IPsec, ProtoESP, 0, true},
}

// InboundElements returns the elements a server of protocol p on the LAN
// must receive from the WAN, in family fam; the first is the one whose port
// forward names the server (forwarded_to).
func InboundElements(p Protocol, fam Family) []Element {
	var out []Element
	for _, r := range inboundParts {
		if r.p == p && (fam == IPv6 || !r.v6only) {
			out = append(out, Element{Family: fam, L4: r.l4, Port: r.port})
		}
	}
	return out
}

// InboundProtocolsOf returns the protocols whose inbound elements include
// (l4, port): UDP 500 is both IPsec and L2TP/IPsec.
func InboundProtocolsOf(l4 uint8, port uint16) []Protocol {
	var out []Protocol
	for _, p := range Toggled {
		for _, e := range InboundElements(p, IPv6) {
			if e.L4 == l4 && (e.Port == 0 || e.Port == port) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}
