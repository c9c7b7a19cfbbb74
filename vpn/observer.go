package vpn

import (
	"net/netip"
	"time"
)

// ObserverElement is one piece of footprint the observer table counts
// (the observer evidence's "match", docs/interface.md#doctor).
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

// observed is one row of the observer table: how the kernel set encodes an
// element (IP protocol and port; ESP in UDP as (esp, 4500): ESP carried on
// port 4500) and which footprint part it belongs to. split: one half of UDP
// 4500, counted by its own rules rather than by port.
type observed struct {
	el    ObserverElement
	kind  Kind
	l4    uint8
	port  uint16
	split bool
}

var observedTable = []observed{
	{ObsIKE, KindIKE, ProtoUDP, PortIKE, false},
	{ObsIKE4500, KindNATT, ProtoUDP, PortNATT, true},
	{ObsESPInUDP, KindNATT, ProtoESP, PortNATT, true},
	{ObsESP, KindESP, ProtoESP, 0, false},
	{ObsAH, KindAH, ProtoAH, 0, false},
	{ObsGRE, KindGRE, ProtoGRE, 0, false},
	{ObsPPTP, KindPPTP, ProtoTCP, PortPPTP, false},
	{ObsL2TP, KindL2TP, ProtoUDP, PortL2TP, false},
}

// ObserverElements lists every element in display order: observedTable's
// (TestProtocolLists checks it; a literal is static data, not init code).
var ObserverElements = []ObserverElement{ObsIKE, ObsIKE4500, ObsESPInUDP, ObsESP, ObsAH, ObsGRE, ObsPPTP, ObsL2TP}

// Kind returns the footprint part the element belongs to; both halves of
// UDP 4500 belong to KindNATT.
func (e ObserverElement) Kind() Kind {
	for _, o := range observedTable {
		if o.el == e {
			return o.kind
		}
	}
	return KindNone
}

// ObserverElementOf decodes the (IP protocol, port) key of the observer's
// sets.
func ObserverElementOf(l4 uint8, port uint16) (ObserverElement, bool) {
	for _, o := range observedTable {
		if o.l4 == l4 && o.port == port {
			return o.el, true
		}
	}
	return "", false
}

// ObservedPorts lists the (IP protocol, port) pairs the observer counts by
// port; ObservedL4 the IP protocols it counts without one. UDP 4500 is
// counted by rules of its own.
func ObservedPorts() [][2]uint16 {
	var out [][2]uint16
	for _, o := range observedTable {
		if o.port != 0 && !o.split {
			out = append(out, [2]uint16{uint16(o.l4), o.port})
		}
	}
	return out
}

// ObservedL4 lists the IP protocols the observer counts without a port.
func ObservedL4() []uint8 {
	var out []uint8
	for _, o := range observedTable {
		if o.port == 0 {
			out = append(out, o.l4)
		}
	}
	return out
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
	_         incomparable
	Host      netip.Addr
	Peer      netip.Addr
	Element   ObserverElement
	Direction Direction
	Packets   uint64
	Bytes     uint64
	Expires   time.Duration
}
