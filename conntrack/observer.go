package conntrack

import (
	"net/netip"
	"time"

	"github.com/vpnpass/vpnpass/netfilter"
)

// ObserverElement is one piece of footprint the observer (the nftables
// table of netfilter/observer) counts.
type ObserverElement string

// Observer elements. UDP 4500 is split by its first four payload bytes: zero
// is the non-ESP marker of IKE after the NAT-T switch; anything else (longer
// than a one-byte NAT keepalive) is ESP in UDP.
const (
	ObsIKE      ObserverElement = "udp/500"
	ObsIKE4500  ObserverElement = "udp/4500-ike"
	ObsESPInUDP ObserverElement = "udp/4500-esp"
	ObsESP      ObserverElement = "esp"
	ObsAH       ObserverElement = "ah"
	ObsGRE      ObserverElement = "gre"
	ObsPPTP     ObserverElement = "tcp/1723"
	ObsL2TP     ObserverElement = "udp/1701"
)

// ObserverElements lists every element in display order.
var ObserverElements = []ObserverElement{ObsIKE, ObsIKE4500, ObsESPInUDP, ObsESP, ObsAH, ObsGRE, ObsPPTP, ObsL2TP}

// Kind returns the footprint piece the element belongs to; both halves of
// UDP 4500 belong to KindNATT.
func (e ObserverElement) Kind() VPNKind {
	switch e {
	case ObsIKE:
		return KindIKE
	case ObsIKE4500, ObsESPInUDP:
		return KindNATT
	case ObsESP:
		return KindESP
	case ObsAH:
		return KindAH
	case ObsGRE:
		return KindGRE
	case ObsPPTP:
		return KindPPTP
	case ObsL2TP:
		return KindL2TP
	}
	return KindNone
}

// observerKey is how the kernel set encodes an element: IP protocol and
// port. ESP in UDP is stored as (esp, 4500): ESP carried on port 4500.
type observerKey struct {
	l4   uint8
	port uint16
}

var observerKeys = map[observerKey]ObserverElement{
	{netfilter.ProtoUDP, PortIKE}:  ObsIKE,
	{netfilter.ProtoUDP, PortNATT}: ObsIKE4500,
	{netfilter.ProtoESP, PortNATT}: ObsESPInUDP,
	{netfilter.ProtoESP, 0}:        ObsESP,
	{netfilter.ProtoAH, 0}:         ObsAH,
	{netfilter.ProtoGRE, 0}:        ObsGRE,
	{netfilter.ProtoTCP, PortPPTP}: ObsPPTP,
	{netfilter.ProtoUDP, PortL2TP}: ObsL2TP,
}

// ObserverElementOf names the element of an observer counter's key.
func ObserverElementOf(l4 uint8, port uint16) (ObserverElement, bool) {
	e, ok := observerKeys[observerKey{l4, port}]
	return e, ok
}

// Direction of counted packets relative to the LAN host.
type Direction string

// Directions: out is from the LAN host (or the router) to the server, in is
// the server's answer on its way to the LAN host.
const (
	DirOut Direction = "out"
	DirIn  Direction = "in"
)

// ObserverEntry is one counter of the observer: packets of one element
// between one LAN host and one server in one direction, since the entry was
// created; the kernel forgets the entry after Expires without packets.
type ObserverEntry struct {
	Host      netip.Addr
	Peer      netip.Addr
	Element   ObserverElement
	Direction Direction
	Packets   uint64
	Bytes     uint64
	Expires   time.Duration
}
