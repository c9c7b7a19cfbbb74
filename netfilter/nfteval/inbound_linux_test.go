package nfteval

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
)

// inboundRuleset is testdata/fw4-inbound.nft, the ruleset the real fw4
// renders from fw4-inbound.uci (port forwards of UDP 500/4500 and TCP 1723
// to 192.168.1.10, an IPv6 rule to 2001:db8:1::10), with the user include
// pointed at an empty directory.
func inboundRuleset(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/fw4-inbound.nft")
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "/etc/nftables.d/*.nft", filepath.Join(t.TempDir(), "*.nft"))
}

// wanClient is a client's first packet from the WAN to the router's WAN
// address (IPv4) or to the LAN server itself (IPv6).
func wanClient(fam vpn.Family, l4 uint8, dport uint16) netfilter.Packet {
	p := netfilter.Packet{Family: fam, L4: l4, DstPort: dport, SrcPort: 40000, InIf: "eth1",
		Dst: netip.MustParseAddr("198.51.100.2"), CtState: "new", DNAT: netfilter.Bool(false)}
	if fam == vpn.IPv6 {
		p.Dst, p.OutIf = lanHost6, "br-lan"
	}
	return p
}

// TestInboundDNAT finds fw4's port forwards on prerouting and judges the
// forwarded packet on the forward hook, where fw4 accepts it by `ct status
// dnat` (uncertain before Packet.DNAT existed).
func TestInboundDNAT(t *testing.T) {
	ns := newNS(t)
	// fw4's input chain asks `iif "lo"`: the WAN device must exist.
	ns.run(t, "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p")
	ns.load(t, inboundRuleset(t))
	rs := ns.read(t)
	const fwd = "!fw4: Accept port forwards"
	cases := []struct {
		name    string
		l4      uint8
		port    uint16
		to      string // "" no DNAT
		verdict netfilter.Verdict
		comment string
	}{
		{"udp500", vpn.ProtoUDP, 500, "192.168.1.10", netfilter.Accept, fwd},
		{"udp4500", vpn.ProtoUDP, 4500, "192.168.1.10", netfilter.Accept, fwd},
		{"tcp1723", vpn.ProtoTCP, 1723, "192.168.1.10", netfilter.Accept, fwd},
		{"udp1701", vpn.ProtoUDP, 1701, "", netfilter.Reject, "!fw4: Reject any other traffic"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := wanClient(vpn.IPv4, c.l4, c.port)
			d, ex, err := rs.DNATOf(p)
			if err != nil || ex.Verdict != netfilter.Accept {
				t.Fatalf("prerouting: %v, %s", err, pathText(ex))
			}
			if got := addrText(d.To); got != c.to || d.Found != (c.to != "") {
				t.Fatalf("DNAT to %q (found %v), want %q", got, d.Found, c.to)
			}
			hook, dst := "input", p.Dst
			if d.Found {
				hook, dst = "forward", d.To
				p.DNAT, p.OutIf = netfilter.Bool(true), "br-lan"
				if d.Port != c.port {
					t.Errorf("DNAT port %d, want %d", d.Port, c.port)
				}
			}
			p.Dst = dst
			chains, err := rs.Chains(hook, vpn.IPv4)
			if err != nil {
				t.Fatal(err)
			}
			e := netfilter.EvaluateHook(chains, p)
			if e.Verdict != c.verdict || e.DecidedBy == nil || e.DecidedBy.Comment != c.comment {
				t.Errorf("%s: got %s by %+v, want %s by %q\n%s", hook, e.Verdict, e.DecidedBy, c.verdict, c.comment, pathText(e))
			}
		})
	}
}

// TestInboundIPv6Forward: IPv6 needs no DNAT; the forward rule decides, and
// fw4's `ct status dnat accept` is known not to match a packet nothing
// rewrote.
func TestInboundIPv6Forward(t *testing.T) {
	ns := newNS(t)
	ns.load(t, inboundRuleset(t))
	rs := ns.read(t)
	chains, err := rs.Chains("forward", vpn.IPv6)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		l4      uint8
		port    uint16
		verdict netfilter.Verdict
		comment string
	}{
		// The rule jumps to accept_to_lan, whose accept decides.
		{vpn.ProtoUDP, 500, netfilter.Accept, "!fw4: accept lan IPv4/IPv6 traffic"},
		{vpn.ProtoESP, 0, netfilter.Reject, "!fw4: Reject any other traffic"},
	} {
		e := netfilter.EvaluateHook(chains, wanClient(vpn.IPv6, c.l4, c.port))
		if e.Verdict != c.verdict || e.DecidedBy == nil || e.DecidedBy.Comment != c.comment {
			t.Errorf("%s/%d: got %s by %+v, want %s by %q\n%s", vpn.L4Name(c.l4), c.port, e.Verdict, e.DecidedBy, c.verdict, c.comment, pathText(e))
		}
	}
}

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
