// Package netx resolves without Go's DNS resolver: every net.Dial,
// net.Dialer or net.Listen call that takes a network and an address string
// links the resolver (~210 KiB on linux/mips). LookupIPv4 is the small DNS
// A query the STUN client needs for a server given by name; its sockets
// come from internal/sock.
package netx
