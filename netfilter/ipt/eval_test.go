package ipt

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/test/lab"
)

// snapFromSave reads one table of one family from iptables-save text. The
// fw3 fixture holds the IPv4 part, a "# ip6tables" line, then IPv6.
func snapFromSave(t testing.TB, text, table string, fam vpn.Family) *tableSnap {
	t.Helper()
	if v4, v6, ok := strings.Cut(text, "\n# ip6tables\n"); ok {
		text = v4
		if fam == vpn.IPv6 {
			text = v6
		}
	}
	s := &tableSnap{kind: netfilter.KindFW3, family: famName(fam), table: table, chains: map[string]*ChainRules{}}
	in := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "*"):
			in = line == "*"+table
		case !in || line == "" || line == "COMMIT" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, ":"):
			f := strings.Fields(line[1:])
			c := &ChainRules{Name: f[0]}
			if f[1] != "-" {
				c.Policy = f[1]
			}
			s.chains[f[0]] = c
		default:
			r := mustRule(t, line)
			s.chains[r.Chain].Rules = append(s.chains[r.Chain].Rules, r)
		}
	}
	if len(s.chains) == 0 {
		t.Fatalf("no table %s in fixture", table)
	}
	return s
}

func fixture(t testing.TB, name string) string {
	t.Helper()
	if strings.HasPrefix(name, "shared:") {
		b, err := lab.ReadTestdata(strings.TrimPrefix(name, "shared:"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	lanIP   = netip.MustParseAddr("192.168.1.10")
	srvIP   = netip.MustParseAddr("203.0.113.10")
	lanIP6  = netip.MustParseAddr("2001:db8:1::10")
	srvIP6  = netip.MustParseAddr("2001:db8:100::10")
	fw3Lock = `-A zone_lan_forward -m comment --comment "!fw3: Zone lan to wan forwarding policy" -j zone_wan_dest_ACCEPT` + "\n"
)

// out is a LAN→WAN packet; back is its reply.
func out(l4 uint8, port uint16) netfilter.Packet {
	return netfilter.Packet{Family: vpn.IPv4, L4: l4, SrcPort: 40000, DstPort: port, Src: lanIP, Dst: srvIP,
		InIf: "br-lan", OutIf: "eth1", CtState: "new"}
}

func back(l4 uint8, port uint16) netfilter.Packet {
	return netfilter.Packet{Family: vpn.IPv4, L4: l4, SrcPort: port, DstPort: 40000, Src: srvIP, Dst: lanIP,
		InIf: "eth1", OutIf: "br-lan", CtState: "established"}
}

func v6(p netfilter.Packet) netfilter.Packet {
	p.Family, p.Src, p.Dst = vpn.IPv6, lanIP6, srvIP6
	if p.InIf == "eth1" {
		p.Src, p.Dst = srvIP6, lanIP6
	}
	return p
}

func with(p netfilter.Packet, f func(*netfilter.Packet)) netfilter.Packet { f(&p); return p }

func TestEvaluate(t *testing.T) {
	fw3 := fixture(t, "shared:fw3-default.rules")
	locked := strings.ReplaceAll(fw3, fw3Lock, "")
	ours := fixture(t, "fw3-locked-vpnpass.rules")
	misc := fixture(t, "misc.rules")
	tests := []struct {
		name   string
		text   string
		table  string
		chain  string
		p      netfilter.Packet
		want   netfilter.Verdict
		chainD string // deciding chain
		handle uint64
		policy bool
	}{
		{"fw3 lan→wan accepted by zone_wan_dest_ACCEPT", fw3, "filter", "FORWARD", out(17, 1701), netfilter.Accept, "zone_wan_dest_ACCEPT", 2, false},
		{"fw3 gre accepted", fw3, "filter", "FORWARD", out(47, 0), netfilter.Accept, "zone_wan_dest_ACCEPT", 2, false},
		{"fw3 reply accepted as established", fw3, "filter", "FORWARD", back(17, 1701), netfilter.Accept, "FORWARD", 2, false},
		{"fw3 invalid dropped (NAT leakage)", fw3, "filter", "FORWARD", with(out(17, 1701), func(p *netfilter.Packet) { p.CtState = "invalid" }), netfilter.Drop, "zone_wan_dest_ACCEPT", 1, false},
		{"fw3 locked: udp rejected", locked, "filter", "FORWARD", out(17, 1701), netfilter.Reject, "reject", 2, false},
		{"fw3 locked: tcp rejected with reset", locked, "filter", "FORWARD", out(6, 1723), netfilter.Reject, "reject", 1, false},
		{"fw3 locked + our allow", ours, "filter", "FORWARD", out(17, 1701), netfilter.Accept, "vpnpass_fwd", 1, false},
		{"fw3 locked + our allow, other port still rejected", ours, "filter", "FORWARD", out(17, 1702), netfilter.Reject, "reject", 2, false},
		{"fw3 locked + our allow, reply", ours, "filter", "FORWARD", back(17, 1701), netfilter.Accept, "vpnpass_fwd", 2, false},
		{"fw3 locked + our block beats established", ours, "filter", "FORWARD", with(out(17, 500), func(p *netfilter.Packet) { p.CtState = "established" }), netfilter.Drop, "vpnpass_fwd", 3, false},
		{"no input interface: uncertain", fw3, "filter", "FORWARD", with(out(17, 1701), func(p *netfilter.Packet) { p.InIf = "" }), netfilter.Uncertain, "FORWARD", 3, false},
		{"no ct state: uncertain", fw3, "filter", "FORWARD", with(out(17, 1701), func(p *netfilter.Packet) { p.CtState = "" }), netfilter.Uncertain, "FORWARD", 2, false},
		{"fw3 v6 esp from wan reaches lan", fw3, "filter", "FORWARD", v6(with(back(50, 0), func(p *netfilter.Packet) { p.CtState = "new" })), netfilter.Accept, "zone_lan_dest_ACCEPT", 1, false},
		{"mangle TCPMSS continues to the policy", fw3, "mangle", "FORWARD", out(6, 1723), netfilter.Accept, "FORWARD", 0, true},
		{"policy drop", misc, "filter", "FORWARD", out(17, 1701), netfilter.Drop, "FORWARD", 0, true},
		{"multiport range accepts 4500", misc, "filter", "FORWARD", out(17, 4500), netfilter.Accept, "ports", 1, false},
		{"multiport negated", misc, "filter", "FORWARD", out(17, 4600), netfilter.Drop, "FORWARD", 0, true},
		{"ipv6 -p ah never matches, -m ah does", misc, "filter", "FORWARD", v6(out(51, 0)), netfilter.Accept, "FORWARD", 5, false},
		{"ipv4 -p ah matches", misc, "filter", "FORWARD", out(51, 0), netfilter.Drop, "FORWARD", 4, false},
		{"interface wildcard and negation", misc, "filter", "FORWARD", with(out(47, 0), func(p *netfilter.Packet) { p.InIf = "wg0" }), netfilter.Accept, "FORWARD", 6, false},
		{"goto returns to the caller's caller", misc, "filter", "FORWARD", out(6, 22), netfilter.Reject, "FORWARD", 8, false},
		{"unknown target is uncertain", misc, "filter", "FORWARD", out(6, 8080), netfilter.Uncertain, "FORWARD", 9, false},
		{"unknown match is uncertain", misc, "filter", "FORWARD", out(17, 53), netfilter.Uncertain, "FORWARD", 10, false},
		{"source prefix decides", misc, "filter", "FORWARD", with(out(17, 1000), func(p *netfilter.Packet) { p.Src = netip.MustParseAddr("10.9.9.9") }), netfilter.Drop, "FORWARD", 11, false},
		{"goto loop is uncertain, never endless", misc, "filter", "FORWARD", out(17, 7), netfilter.Uncertain, "loop", 0, false},
		{"mac source unknown is uncertain", misc, "filter", "FORWARD", out(17, 1194), netfilter.Uncertain, "FORWARD", 13, false},
		{"mac source of the host decides", misc, "filter", "FORWARD", with(out(17, 1194), func(p *netfilter.Packet) { p.SrcMAC = net.HardwareAddr{2, 0, 0x5e, 0, 0x53, 1} }), netfilter.Reject, "FORWARD", 13, false},
		{"mac source of another host does not match", misc, "filter", "FORWARD", with(out(17, 1194), func(p *netfilter.Packet) { p.SrcMAC = net.HardwareAddr{2, 0, 0x5e, 0, 0x53, 2} }), netfilter.Drop, "FORWARD", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := snapFromSave(t, tt.text, tt.table, tt.p.Family)
			c := &baseChain{snap: s, ref: netfilter.ChainRef{Backend: s.kind, Table: tt.table, Name: tt.chain}}
			e := c.Evaluate(tt.p)
			d := e.DecidedBy
			if e.Verdict != tt.want || d == nil || d.Chain != tt.chainD || d.Handle != tt.handle || (d.Policy != "") != tt.policy {
				t.Errorf("verdict %s by %+v; want %s by %s #%d (policy %v)\npath: %+v", e.Verdict, d, tt.want, tt.chainD, tt.handle, tt.policy, e.Path)
			}
			if len(e.Path) == 0 || e.Path[len(e.Path)-1].Verdict != tt.want {
				t.Errorf("path does not end in the verdict: %+v", e.Path)
			}
			if d != nil && d.Handle > 0 && d.Comment != s.chains[d.Chain].Rules[d.Handle-1].Comment {
				t.Errorf("decider comment %q is not the rule's", d.Comment)
			}
		})
	}
}

func TestHelperAssignments(t *testing.T) {
	s := snapFromSave(t, fixture(t, "helpers.rules"), "raw", vpn.IPv4)
	s.kind = netfilter.KindIptablesLegacy
	got := s.helperAssignments()
	var owners []string
	for _, h := range got {
		owners = append(owners, h.Owner+"/"+h.Chain+"/"+h.Helper)
	}
	want := "iptables-legacy/PREROUTING/sip vpnpass/vpnpass_helper/pptp vpnpass/vpnpass_helper/pptp fw3/zone_lan_helper/pptp fw3/zone_lan_helper/ftp"
	if strings.Join(owners, " ") != want {
		t.Errorf("assignments %v\nwant %s", owners, want)
	}
}

func TestMasquerade(t *testing.T) {
	fw3 := fixture(t, "shared:fw3-default.rules")
	misc := fixture(t, "misc.rules")
	tests := []struct {
		text, wan string
		want      bool
	}{
		{fw3, "eth1", true},
		{fw3, "eth2", false},
		{misc, "eth1", true},  // behind a destination exemption that may or may not apply
		{misc, "wwan0", true}, // docker-style source match: possible
		{misc, "docker0", false},
	}
	for _, tt := range tests {
		s := snapFromSave(t, tt.text, "nat", vpn.IPv4)
		p := netfilter.Packet{Family: vpn.IPv4, OutIf: tt.wan, CtState: "new"}
		if got, _ := s.mayMasquerade("POSTROUTING", &p, 0); got != tt.want {
			t.Errorf("masquerade on %s = %v, want %v", tt.wan, got, tt.want)
		}
	}
}

// BenchmarkEvaluateFW3: one packet through fw3's FORWARD (snapshot in memory).
func BenchmarkEvaluateFW3(b *testing.B) {
	s := snapFromSave(b, fixture(b, "shared:fw3-default.rules"), "filter", vpn.IPv4)
	c := &baseChain{snap: s, ref: netfilter.ChainRef{Backend: s.kind, Table: "filter", Name: "FORWARD"}}
	p := out(17, 1701)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if e := c.Evaluate(p); e.Verdict != netfilter.Accept {
			b.Fatal(e.Verdict)
		}
	}
}

// TestHostValues: the addresses and MACs iptables rules single hosts out
// by, for the inspection's arbitrary host and exceptions.
func TestHostValues(t *testing.T) {
	s := snapFromSave(t, fixture(t, "misc.rules"), "filter", vpn.IPv4)
	c := &baseChain{snap: s}
	got := map[string]bool{}
	for _, v := range c.HostValues() {
		got[v.Match] = true
	}
	for _, want := range []string{"-s 192.0.2.0/24", "-s 10.0.0.0/8", "-m mac --mac-source 02:00:5e:00:53:01"} {
		if !got[want] {
			t.Errorf("missing %q in %v", want, got)
		}
	}
}
