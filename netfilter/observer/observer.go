// Package observer is the observer table `inet vpnpass_watch`: counting
// chains hooked ahead of the filter on forward and output that record, per
// LAN host, server, footprint element and direction, the packets the
// firewall sees, including the ones it then drops (conntrack never confirms
// those, so the conntrack watcher cannot see them). It never gives a
// verdict. On input it counts inbound attempts: packets from outside the
// LAN to the router's own address on a VPN port that no port forward took
// (vpn.DirWAN). netfilter/fw.CleanupAll removes the table with everything else
// of ours.
package observer

// TableName is the nftables table (family inet) of the observer.
const TableName = "vpnpass_watch"

// The counters are vpn.ObserverEntry: the kernel set's key (IP protocol and
// well-known port) is named by vpn.ObserverElementOf when it is read.
