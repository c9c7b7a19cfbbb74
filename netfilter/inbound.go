package netfilter

import (
	"net/netip"

	"github.com/vpnpass/vpnpass/vpn"
)

// InboundStatus is one entry of the status's "inbound" (docs/interface.md#status):
// can a client on the WAN reach a VPN server on the LAN?
type InboundStatus struct {
	Server netip.Addr `json:"server"`
	Family vpn.Family `json:"family"`
	// ForwardedTo is where this router's port forward (DNAT) sends the
	// protocol's main port (UDP 500, TCP 1723); nil when nothing forwards
	// it, and always over IPv6, which needs no NAT.
	ForwardedTo *netip.Addr `json:"forwarded_to"`
	// Verdict is the worst fate of the protocol's inbound elements on the
	// way to Server: a forward to another host, or none while the router
	// itself takes the packet, counts as drop.
	Verdict   Verdict  `json:"verdict"`
	DecidedBy *Decider `json:"decided_by"`
	// Blocked lists the match strings (udp/500, ...) that do not reach
	// Server, for the doctor's advice. An addition to INTERFACE.md.
	Blocked []string `json:"blocked"`
}

// NoForward is the Decider's Policy when no port forward sends the packet
// to the server and the router accepts it for itself.
const NoForward = "no-forward"
