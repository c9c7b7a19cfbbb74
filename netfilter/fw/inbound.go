package fw

import (
	"net/netip"

	"github.com/vpnpass/vpnpass/vpn"
)

// InboundServer is a VPN server on the LAN and the protocols it serves.
type InboundServer struct {
	Addr      netip.Addr
	Protocols []vpn.Protocol
}

// InboundOptions say what to judge: the servers, and the router's sides.
type InboundOptions struct {
	LANDevices []string
	WANDevice  string
	WANAddr    netip.Addr // the router's WAN IPv4 address; invalid if unknown
	Servers    []InboundServer
}
