package lab

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// ErrUnreachable is returned by Ping when an ICMP destination unreachable
// came back instead of an echo reply (a firewall rejected the request).
var ErrUnreachable = errors.New("destination unreachable")

// Ping sends one ICMP (or ICMPv6) echo request from the node to dst over a
// raw socket and waits up to timeout for the matching reply. Silence gives
// an error matching os.ErrDeadlineExceeded; a returned unreachable gives
// ErrUnreachable.
func Ping(from *Node, dst netip.Addr, timeout time.Duration) error {
	network, laddr, proto := "ip4:icmp", "0.0.0.0", 1
	var typ, reply icmp.Type = ipv4.ICMPTypeEcho, ipv4.ICMPTypeEchoReply
	var unreach icmp.Type = ipv4.ICMPTypeDestinationUnreachable
	if dst.Is6() {
		network, laddr, proto = "ip6:ipv6-icmp", "::", 58
		typ, reply, unreach = ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply, ipv6.ICMPTypeDestinationUnreachable
	}
	var conn *icmp.PacketConn
	err := from.Do(func() (err error) {
		conn, err = icmp.ListenPacket(network, laddr)
		return err
	})
	if err != nil {
		return fmt.Errorf("icmp socket in %s: %w", from.NS, err)
	}
	defer conn.Close()
	var idb [2]byte
	_, _ = rand.Read(idb[:])
	id := int(binary.BigEndian.Uint16(idb[:]))
	msg := icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: 1, Data: []byte("vpnpass lab")}}
	b, err := msg.Marshal(nil) // the kernel fills in the ICMPv6 checksum
	if err != nil {
		return err
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.WriteTo(b, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
		return fmt.Errorf("ping %s from %s: %w", dst, from.NS, err)
	}
	buf := make([]byte, 1500)
	for {
		n, peer, err := conn.ReadFrom(buf)
		if err != nil {
			return fmt.Errorf("ping %s from %s: %w", dst, from.NS, err)
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil {
			continue
		}
		switch {
		case m.Type == reply && isOurEcho(m.Body, id) && peer.String() == dst.String():
			return nil
		case m.Type == unreach && quotesDst(m.Body, dst):
			return fmt.Errorf("ping %s from %s: %w (from %s)", dst, from.NS, ErrUnreachable, peer)
		}
	}
}

func isOurEcho(body icmp.MessageBody, id int) bool {
	e, ok := body.(*icmp.Echo)
	return ok && e.ID == id
}

// quotesDst reports whether an unreachable quotes a packet sent to dst
// (the original IP header's destination address).
func quotesDst(body icmp.MessageBody, dst netip.Addr) bool {
	u, ok := body.(*icmp.DstUnreach)
	if !ok {
		return false
	}
	off := 16
	if dst.Is6() {
		off = 24
	}
	q, ok := netip.AddrFromSlice(u.Data[min(off, len(u.Data)):min(off+dst.BitLen()/8, len(u.Data))])
	return ok && q == dst
}
