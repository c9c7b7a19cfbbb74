// Package sock is the handful of socket operations vpnpass needs, over
// golang.org/x/sys/unix and the runtime's poller, without package net's
// socket machinery (netFD, TCPConn/UDPConn/UnixConn, the interface tables,
// sendfile/splice: ~130 KB on linux/mips). A non-blocking descriptor wrapped
// by os.NewFile waits in the poller, so deadlines and Close interrupt a
// blocked call exactly as they do on a net.Conn.
//
// What is here: the API's unix stream server and client, connected UDP
// request/response sockets and an unbound one (SSDP), a TCP connect bounded
// by a context, and the router's interface addresses. Sockets are created
// on the calling goroutine's thread, so a thread locked into a network
// namespace gets its sockets there.
package sock

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"time"
)

// Conn is a connected socket: stream (TCP, unix) or datagram (UDP, which
// may also be unconnected: see ListenUDP4).
type Conn struct {
	_ [0]func() // not comparable: no generated equality function (binary size)

	f      *os.File
	stream bool
}

// Read reads from a stream, or one datagram (a zero-length datagram reads
// as 0, nil, as on a net.UDPConn, not as the end of the stream).
func (c *Conn) Read(b []byte) (int, error) {
	if c.stream {
		return c.f.Read(b)
	}
	n, _, err := c.ReadFrom(b)
	return n, err
}

// Write writes all of b (one datagram on a datagram socket).
func (c *Conn) Write(b []byte) (int, error) { return c.f.Write(b) }

// Close closes the socket; a call blocked on it returns an error.
func (c *Conn) Close() error { return c.f.Close() }

// SetDeadline sets the read and write deadlines (zero: none).
func (c *Conn) SetDeadline(t time.Time) error { return c.f.SetDeadline(t) }

// SetReadDeadline sets the read deadline (zero: none).
func (c *Conn) SetReadDeadline(t time.Time) error { return c.f.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline (zero: none).
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.f.SetWriteDeadline(t) }

// longAgo is a deadline in the past: it wakes a blocked call at once.
var longAgo = time.Unix(1, 0)

// ReadsEndWith makes a Read blocked on c return (a read deadline in the
// past) when ctx ends; stop undoes it (context.AfterFunc). One shared
// method value instead of a closure at every caller.
func (c *Conn) ReadsEndWith(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, c.expireReads)
}

// CallsEndWith is ReadsEndWith for reads and writes.
func (c *Conn) CallsEndWith(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, c.expire)
}

func (c *Conn) expireReads() { _ = c.f.SetReadDeadline(longAgo) }
func (c *Conn) expire()      { _ = c.f.SetDeadline(longAgo) }

// Listener is a listening unix stream socket.
type Listener struct {
	_ [0]func() // not comparable: no generated equality function (binary size)

	f *os.File
}

// Close stops listening; a blocked Accept returns an error.
func (l *Listener) Close() error { return l.f.Close() }

// Link is a network interface with its addresses.
type Link struct {
	Index    int
	Name     string
	Kind     string // IFLA_INFO_KIND: "veth", "ip6tnl", "bridge", ...; "" for plain devices
	Up       bool   // administratively up (IFF_UP)
	Loopback bool
	Prefixes []netip.Prefix // as configured: the address with its prefix length
}

// IsTimeout reports whether err is a deadline that expired.
func IsTimeout(err error) bool { return err != nil && errors.Is(err, os.ErrDeadlineExceeded) }
