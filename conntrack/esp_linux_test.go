package conntrack

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// espPacket is an ESP header (RFC 4303: SPI, sequence number, both in
// network byte order as on the wire) followed by an opaque payload standing
// in for the encrypted data.
func espPacket(spi, seq uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, spi)
	b = binary.BigEndian.AppendUint32(b, seq)
	return append(b, "encrypted-payload-stand-in"...)
}

// rawESP opens a raw IP protocol 50 socket bound to local inside node; the
// socket stays in that namespace after Do returns.
func rawESP(t testing.TB, node *lab.Node, local netip.Addr) *net.IPConn {
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

// serveESP answers every ESP packet the server gets with one ESP packet of
// its own (SPI 0x5e0000 plus the client's sequence number), as an IPsec
// server answers data with data.
func serveESP(t testing.TB, node *lab.Node, addr netip.Addr) {
	c := rawESP(t, node, addr)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromIP(buf)
			if err != nil {
				return
			}
			if n < 8 {
				continue
			}
			seq := binary.BigEndian.Uint32(buf[4:8])
			_, _ = c.WriteToIP(espPacket(0x5e0000, seq), from)
		}
	}()
}

// sendESPFrom sends n ESP packets with the given SPI from c to the server
// and counts the answers that come back within wait of each.
func sendESPFrom(t testing.TB, c *net.IPConn, spi uint32, n int, wait time.Duration) int {
	t.Helper()
	answers := 0
	buf := make([]byte, 2048)
	for seq := uint32(1); seq <= uint32(n); seq++ {
		if _, err := c.WriteToIP(espPacket(spi, seq), &net.IPAddr{IP: lab.Server.AsSlice()}); err != nil {
			t.Fatalf("send ESP: %v", err)
		}
		_ = c.SetReadDeadline(time.Now().Add(wait))
		if n, _, err := c.ReadFromIP(buf); err == nil && n >= 8 {
			answers++
		}
	}
	return answers
}

// TestESPMultipleClients: two LAN hosts send raw ESP (no NAT-T) to one
// server. The first holds the NAT mapping for ESP to that server and is
// answered; the second host's ESP clashes with it at the NAT (ESP has no
// ports to tell the two apart), so the kernel never confirms a conntrack
// entry for it: only the observer sees it leave. The second host is told
// esp-multiple-clients, not that this router's firewall drops ESP.
func TestESPMultipleClients(t *testing.T) {
	e := newE2E(t, lab.Config{})
	serveESP(t, e.l.Inet, lab.Server)
	a := rawESP(t, e.l.LAN, lab.LANHost)
	b := rawESP(t, e.l.LAN2, lab.LANHost2)
	if got := sendESPFrom(t, a, 0xa0001, 3, time.Second); got != 3 {
		t.Fatalf("%d of 3 ESP packets of the first host answered", got)
	}
	if got := sendESPFrom(t, b, 0xb0001, 3, 300*time.Millisecond); got != 0 {
		t.Fatalf("%d ESP packets of the second host answered through the same NAT", got)
	}
	got := e.judge(t, Context{})
	for _, f := range got {
		t.Logf("%s %s: %s\n  advice: %s", f.Host, f.Code, f.Message, f.Advice)
	}
	// The first host sent ESP only (no IKE): nothing to judge there.
	wantCodes(t, got, CodeESPMultipleClients)
	f := got[0]
	if f.Host != lab.LANHost2.String() || f.Peer != lab.Server.String() {
		t.Errorf("finding names %s → %s, want %s → %s", f.Host, f.Peer, lab.LANHost2, lab.Server)
	}
	if others, _ := f.Params["others"].([]string); len(others) != 1 || others[0] != lab.LANHost.String() {
		t.Errorf("params others = %v, want [%s]", f.Params["others"], lab.LANHost)
	}
	if len(f.Evidence) != 1 || f.Evidence[0].Kind != "observer" || f.Evidence[0].Match != "esp" || f.Evidence[0].Packets != 3 {
		t.Errorf("evidence %+v, want the observer's 3 ESP packets out", f.Evidence)
	}
}
