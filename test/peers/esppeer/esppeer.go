// Package esppeer sends and answers raw ESP (IP protocol 50, no NAT-T) in
// lab namespaces: strongSwan's kernel-libipsec always encapsulates in UDP
// 4500, so raw ESP through the router's NAT is emulated here.
package esppeer

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// ServerSPI is the SPI of the server's answers.
const ServerSPI = 0x5e0000

// Packet is an ESP header (RFC 4303: SPI and sequence number in network
// byte order, as on the wire) followed by an opaque stand-in for the
// encrypted payload.
func Packet(spi, seq uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, spi)
	b = binary.BigEndian.AppendUint32(b, seq)
	return append(b, "encrypted-payload-stand-in"...)
}

// Open opens a raw ESP socket bound to local inside node; the socket stays
// in that namespace after Do returns and is closed at the test's end.
func Open(t testing.TB, node *lab.Node, local netip.Addr) *net.IPConn {
	t.Helper()
	var c *net.IPConn
	if err := node.Do(func() (err error) {
		c, err = net.ListenIP("ip4:50", &net.IPAddr{IP: local.AsSlice()})
		return err
	}); err != nil {
		t.Fatalf("raw ESP socket in %s: %v", node.Role, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Serve answers every ESP packet arriving at addr in node with one of its
// own (ServerSPI, the client's sequence number), as an IPsec server answers
// data with data.
func Serve(t testing.TB, node *lab.Node, addr netip.Addr) {
	c := Open(t, node, addr)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromIP(buf)
			if err != nil {
				return
			}
			if n >= 8 {
				_, _ = c.WriteToIP(Packet(ServerSPI, binary.BigEndian.Uint32(buf[4:8])), from)
			}
		}
	}()
}

// Send sends n ESP packets with spi from c to server and counts the answers
// that come back within wait of each.
func Send(t testing.TB, c *net.IPConn, server netip.Addr, spi uint32, n int, wait time.Duration) int {
	t.Helper()
	answers := 0
	buf := make([]byte, 2048)
	for seq := uint32(1); seq <= uint32(n); seq++ {
		if _, err := c.WriteToIP(Packet(spi, seq), &net.IPAddr{IP: server.AsSlice()}); err != nil {
			t.Fatalf("send ESP: %v", err)
		}
		_ = c.SetReadDeadline(time.Now().Add(wait))
		if m, _, err := c.ReadFromIP(buf); err == nil && m >= 8 {
			answers++
		}
	}
	return answers
}
