package truth

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/vpn"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Key names one first packet of a footprint element: family, L4
// protocol and (TCP/UDP) destination port.
type Key struct {
	fam  vpn.Family
	l4   uint8
	port uint16
}

// String is the key as the sink's rule comments spell it.
func (k Key) String() string {
	if k.port != 0 {
		return fmt.Sprintf("%s/%d/%d", k.fam, k.l4, k.port)
	}
	return fmt.Sprintf("%s/%d", k.fam, k.l4)
}

// KeyOf is the key of an element's first packet.
func KeyOf(e vpn.Element) Key { return Key{e.Family, e.L4, e.Port} }

// Keys is every distinct first packet of every protocol's footprint.
func Keys() []Key {
	seen := map[Key]bool{}
	var out []Key
	for _, p := range vpn.Toggled {
		for _, e := range vpn.Footprint(p) {
			if k := KeyOf(e); !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// SinkRuleset counts, at the server's side before anything else, every
// probe packet that got through the router, and drops it there so that no
// answer (TCP reset, ICMP unreachable) of the server's can be taken for the
// router's reject.
func SinkRuleset(keys []Key) string {
	var b strings.Builder
	b.WriteString("table inet sink {\n\tchain pre {\n\t\ttype filter hook prerouting priority -400; policy accept;\n")
	for _, k := range keys {
		nf := "ipv4"
		if k.fam == vpn.IPv6 {
			nf = "ipv6"
		}
		match := fmt.Sprintf("meta l4proto %d", k.l4)
		switch k.l4 {
		case vpn.ProtoUDP:
			match = fmt.Sprintf("udp dport %d", k.port)
		case vpn.ProtoTCP:
			match = fmt.Sprintf("tcp dport %d", k.port)
		}
		fmt.Fprintf(&b, "\t\tmeta nfproto %s %s counter drop comment %q\n", nf, match, k.String())
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}

// sinkCounts reads the sink's counters (nft's JSON, a test fixture's tool).
func sinkCounts(l *lab.Lab) (map[string]int, error) {
	out, err := l.Inet.Run("nft", "-j", "list", "table", "inet", "sink")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Nftables []struct {
			Rule *struct {
				Comment string
				Expr    []map[string]json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, o := range doc.Nftables {
		if o.Rule == nil {
			continue
		}
		for _, e := range o.Rule.Expr {
			var c struct{ Packets int }
			if raw, ok := e["counter"]; ok && json.Unmarshal(raw, &c) == nil {
				counts[o.Rule.Comment] += c.Packets
			}
		}
	}
	return counts, nil
}

// listener catches what the router sends back to a LAN host for a
// rejected probe: ICMP/ICMPv6 unreachable (quoting the probe) and TCP resets.
type listener struct {
	conns    []net.PacketConn
	rejected chan Key
}

func listenRejects(n *lab.Node) (*listener, error) {
	ls := &listener{rejected: make(chan Key, 64)}
	err := n.Do(func() error {
		for _, nw := range []string{"ip4:icmp", "ip6:ipv6-icmp", "ip4:tcp", "ip6:tcp"} {
			c, err := net.ListenPacket(nw, "")
			if err != nil {
				return err
			}
			ls.conns = append(ls.conns, c)
		}
		return nil
	})
	if err != nil {
		ls.close()
		return nil, err
	}
	for i, c := range ls.conns {
		go ls.read(c, []string{"icmp", "icmp6", "tcp", "tcp6"}[i])
	}
	return ls, nil
}

func (ls *listener) close() {
	for _, c := range ls.conns {
		c.Close()
	}
}

func (ls *listener) read(c net.PacketConn, kind string) {
	buf := make([]byte, 2048)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		if k, ok := parseReject(kind, buf[:n]); ok {
			ls.rejected <- k
		}
	}
}

// parseReject recognizes a TCP reset from port 1723-like probes (any
// source port) or an ICMP destination unreachable quoting a probe.
func parseReject(kind string, b []byte) (Key, bool) {
	switch kind {
	case "tcp", "tcp6":
		if len(b) < 14 || b[13]&0x04 == 0 {
			return Key{}, false
		}
		fam := vpn.IPv4
		if kind == "tcp6" {
			fam = vpn.IPv6
		}
		return Key{fam, vpn.ProtoTCP, binary.BigEndian.Uint16(b[0:2])}, true
	}
	proto, fam := 1, vpn.IPv4
	if kind == "icmp6" {
		proto, fam = 58, vpn.IPv6
	}
	m, err := icmp.ParseMessage(proto, b)
	if err != nil {
		return Key{}, false
	}
	du, ok := m.Body.(*icmp.DstUnreach)
	if !ok {
		return Key{}, false
	}
	return quoted(fam, du.Data)
}

// quoted reads the probe an ICMP error quotes.
func quoted(fam vpn.Family, d []byte) (Key, bool) {
	var l4 uint8
	var rest []byte
	if fam == vpn.IPv4 {
		h, err := ipv4.ParseHeader(d)
		if err != nil {
			return Key{}, false
		}
		l4, rest = uint8(h.Protocol), d[h.Len:]
	} else {
		h, err := ipv6.ParseHeader(d)
		if err != nil {
			return Key{}, false
		}
		l4, rest = uint8(h.NextHeader), d[ipv6.HeaderLen:]
	}
	k := Key{fam: fam, l4: l4}
	if l4 == vpn.ProtoUDP || l4 == vpn.ProtoTCP {
		if len(rest) < 4 {
			return Key{}, false
		}
		k.port = binary.BigEndian.Uint16(rest[2:4])
	}
	return k, true
}

// sendProbes sends one first packet per key from host (addresses src4 and
// src6) to the lab's servers, from inside the host's namespace. TCP
// connects are left pending; close releases their sockets.
func sendProbes(n *lab.Node, keys []Key) (close func(), err error) {
	var fds []int
	var conns []net.PacketConn
	close = func() {
		for _, fd := range fds {
			syscall.Close(fd)
		}
		for _, c := range conns {
			c.Close()
		}
	}
	err = n.Do(func() error {
		for _, k := range keys {
			dst := lab.Server
			if k.fam == vpn.IPv6 {
				dst = lab.Server6
			}
			switch k.l4 {
			case vpn.ProtoTCP:
				fd, err := tcpSYN(dst, k.port)
				if err != nil {
					return err
				}
				fds = append(fds, fd)
			case vpn.ProtoUDP:
				// IKE, NAT-T and L2TP clients send from their well-known port.
				nw, any := "udp4", netip.IPv4Unspecified()
				if k.fam == vpn.IPv6 {
					nw, any = "udp6", netip.IPv6Unspecified()
				}
				c, err := net.ListenUDP(nw, net.UDPAddrFromAddrPort(netip.AddrPortFrom(any, k.port)))
				if err != nil {
					return err
				}
				conns = append(conns, c)
				if _, err := c.WriteToUDPAddrPort([]byte("vpnpass-probe"), netip.AddrPortFrom(dst, k.port)); err != nil {
					return err
				}
			default:
				nw := fmt.Sprintf("ip4:%d", k.l4)
				if k.fam == vpn.IPv6 {
					nw = fmt.Sprintf("ip6:%d", k.l4)
				}
				c, err := net.ListenPacket(nw, "")
				if err != nil {
					return err
				}
				conns = append(conns, c)
				if _, err := c.WriteTo(rawPayload(k.l4), &net.IPAddr{IP: dst.AsSlice()}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return close, err
}

// rawPayload is an ESP header (SPI, sequence) with a little data, a PPTP
// enhanced GRE header (version 1, PPP, call ID), or a tunnel-mode AH header
// (next header IPv6, a 96-bit ICV) followed by an inner IPv6 header.
func rawPayload(l4 uint8) []byte {
	switch l4 {
	case vpn.ProtoGRE:
		return []byte{0x20, 0x01, 0x88, 0x0b, 0x00, 0x04, 0x00, 0x2a, 0xff, 0x03, 0x00, 0x21}
	case 51:
		ah := []byte{41, 4, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 0, 1}
		ah = append(ah, make([]byte, 12)...)                                      // ICV
		inner := append([]byte{0x60, 0, 0, 0, 0, 0, 59, 64}, make([]byte, 32)...) // no next header
		return append(ah, inner...)
	}
	return []byte{0x00, 0x00, 0x10, 0x01, 0x00, 0x00, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef}
}

// tcpSYN starts a non-blocking connect (the kernel sends the SYN).
func tcpSYN(dst netip.Addr, port uint16) (int, error) {
	af := syscall.AF_INET6
	var sa syscall.Sockaddr = &syscall.SockaddrInet6{Port: int(port), Addr: dst.As16()}
	if dst.Is4() {
		af, sa = syscall.AF_INET, &syscall.SockaddrInet4{Port: int(port), Addr: dst.As4()}
	}
	fd, err := syscall.Socket(af, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		return -1, err
	}
	if err := syscall.Connect(fd, sa); err != nil && err != syscall.EINPROGRESS {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

// KernelVerdicts sends every probe from host and says what the router did
// with each: delivered (accept), answered with a reset or unreachable
// (reject), or neither (drop).
func KernelVerdicts(l *lab.Lab, host *lab.Node, keys []Key, wait time.Duration) (map[Key]netfilter.Verdict, error) {
	before, err := sinkCounts(l)
	if err != nil {
		return nil, err
	}
	ls, err := listenRejects(host)
	if err != nil {
		return nil, err
	}
	defer ls.close()
	done, err := sendProbes(host, keys)
	defer done()
	if err != nil {
		return nil, err
	}
	rejected := map[Key]bool{}
	deadline := time.After(wait)
collect:
	for {
		select {
		case k := <-ls.rejected:
			rejected[k] = true
		case <-deadline:
			break collect
		}
	}
	counts, err := sinkCounts(l)
	if err != nil {
		return nil, err
	}
	out := map[Key]netfilter.Verdict{}
	for _, k := range keys {
		switch {
		case counts[k.String()] > before[k.String()]:
			out[k] = netfilter.Accept
		case rejected[k]:
			out[k] = netfilter.Reject
		default:
			out[k] = netfilter.Drop
		}
	}
	return out, nil
}
