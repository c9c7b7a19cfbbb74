package e2e

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// TestDoctorESPMultipleClients: two LAN hosts send raw ESP (IP protocol 50,
// no NAT-T) to one server. The first holds this router's NAT mapping for
// ESP to that server and is answered. ESP has no ports, so the second
// host's packets clash with that mapping and the kernel drops them before
// conntrack confirms an entry: only the observer sees them leave. The
// agent tells the second host esp-multiple-clients (not that this router's
// firewall drops ESP).
func TestDoctorESPMultipleClients(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Config{})
	a := startAgentPublic(t, l)
	serveESP(t, l.Inet, lab.Server)
	first, second := rawESP(t, l.LAN, lab.LANHost), rawESP(t, l.LAN2, lab.LANHost2)
	if got := sendESP(t, first, 0xa0001, 3, time.Second); got != 3 {
		t.Fatalf("%d of 3 ESP packets of the first host answered", got)
	}
	if got := sendESP(t, second, 0xb0001, 3, 300*time.Millisecond); got != 0 {
		t.Fatalf("%d ESP packets of the second host answered through the same NAT", got)
	}
	k := key(lab.LANHost2.String(), lab.Server.String(), "ipsec")
	doc := waitDoctor(t, a, k)
	logFindings(t, doc)
	wantSession(t, doc, k, "esp-multiple-clients")
	// The first host sent ESP without IKE: nothing to judge there.
	wantSession(t, doc, key(lab.LANHost.String(), lab.Server.String(), "ipsec"))
	for _, f := range doc.Findings {
		if others, _ := f.Params["others"].([]any); f.Code == "esp-multiple-clients" && (len(others) != 1 || others[0] != lab.LANHost.String()) {
			t.Errorf("esp-multiple-clients names the other hosts %v, want [%s]", f.Params["others"], lab.LANHost)
		}
	}
}

// espPacket is an ESP header (RFC 4303: SPI and sequence number, network
// byte order as on the wire) and an opaque stand-in for the encrypted data.
func espPacket(spi, seq uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, spi)
	b = binary.BigEndian.AppendUint32(b, seq)
	return append(b, "encrypted-payload-stand-in"...)
}

// rawESP opens a raw IP protocol 50 socket on local inside node; the
// socket stays in that namespace after Do returns.
func rawESP(t *testing.T, node *lab.Node, local netip.Addr) *net.IPConn {
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

// serveESP answers each ESP packet to addr with one of its own, as an
// IPsec server answers data with data.
func serveESP(t *testing.T, node *lab.Node, addr netip.Addr) {
	t.Helper()
	c := rawESP(t, node, addr)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromIP(buf)
			if err != nil {
				return
			}
			if n >= 8 {
				_, _ = c.WriteToIP(espPacket(0x5e0000, binary.BigEndian.Uint32(buf[4:8])), from)
			}
		}
	}()
}

// sendESP sends n ESP packets with one SPI to lab.Server and counts the
// answers that come back within wait of each.
func sendESP(t *testing.T, c *net.IPConn, spi uint32, n int, wait time.Duration) int {
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
