// Package netx connects and resolves without Go's DNS resolver. Every
// net.Dial, net.Dialer or net.Listen call that takes a network and an
// address string links the resolver (~210 KiB on linux/mips); the typed
// calls (net.DialUDP with a *net.UDPAddr, ...) do not, but net.DialTCP has
// no context. DialTCP here is a TCP connect that stops when its context ends,
// and LookupIPv4 is the small DNS A query the STUN client needs for a server
// given by name.
package netx
