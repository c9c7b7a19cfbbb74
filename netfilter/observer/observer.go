// Package observer is the observer table `inet vpnpass_watch`: counting
// chains hooked ahead of the filter on forward and output that record, per
// LAN host, server, footprint element and direction, the packets the
// firewall sees, including the ones it then drops (conntrack never confirms
// those, so the conntrack watcher cannot see them). It never gives a
// verdict. netfilter/fw.CleanupAll removes the table with everything else
// of ours.
package observer

import (
	"net/netip"
	"time"
)

// TableName is the nftables table (family inet) of the observer.
const TableName = "vpnpass_watch"

// Count is one counter of the observer: packets between one LAN host and one
// server, keyed by IP protocol and well-known port, since the entry was
// created; the kernel forgets the entry after Expires without packets.
// ESP in UDP is counted as (esp, 4500): ESP carried on port 4500, apart
// from IKE on 4500 (udp, 4500); ESP, AH and GRE have port 0.
type Count struct {
	Host, Peer netip.Addr
	Proto      uint8
	Port       uint16
	Answer     bool // the server's answer on its way to the LAN host
	Packets    uint64
	Bytes      uint64
	Expires    time.Duration
}
