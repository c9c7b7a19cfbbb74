package nfteval

import (
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
)

// Addresses of the representative packets (documentation ranges, as the lab).
var (
	lanHost4 = netip.MustParseAddr("192.168.1.10")
	server4  = netip.MustParseAddr("203.0.113.10")
	lanHost6 = netip.MustParseAddr("2001:db8:1::10")
	server6  = netip.MustParseAddr("2001:db8:100::10")
)

// lanToWAN is a LAN host's packet to a server, out of the WAN device.
func lanToWAN(fam vpn.Family, l4 uint8, dport uint16, state string) netfilter.Packet {
	p := netfilter.Packet{Family: fam, L4: l4, DstPort: dport, Src: lanHost4, Dst: server4,
		InIf: "br-lan", OutIf: "eth1", CtState: state}
	if fam == vpn.IPv6 {
		p.Src, p.Dst = lanHost6, server6
	}
	return p
}

// wanToLAN is the server's packet toward the LAN host.
func wanToLAN(fam vpn.Family, l4 uint8, sport uint16, state string) netfilter.Packet {
	p := lanToWAN(fam, l4, 0, state)
	p.Src, p.Dst, p.SrcPort, p.InIf, p.OutIf = p.Dst, p.Src, sport, "eth1", "br-lan"
	return p
}

func forward(t *testing.T, rs *Ruleset, p netfilter.Packet) netfilter.Explanation {
	t.Helper()
	chains, err := rs.Chains("forward", p.Family)
	if err != nil {
		t.Fatal(err)
	}
	return netfilter.EvaluateHook(chains, p)
}

// TestFW4Forward walks footprint packets through OpenWrt's default fw4
// ruleset, loaded into a namespace, and through the locked-down variant.
func TestFW4Forward(t *testing.T) {
	const (
		toWAN    = "!fw4: accept wan IPv4/IPv6 traffic"
		toLAN    = "!fw4: accept lan IPv4/IPv6 traffic"
		rejAny   = "!fw4: Reject any other traffic"
		rejTCP   = "!fw4: Reject TCP traffic"
		flows    = "!fw4: Handle forwarded flows"
		leakage  = "!fw4: Prevent NAT leakage"
		v4, v6   = vpn.IPv4, vpn.IPv6
		tcp, udp = vpn.ProtoTCP, vpn.ProtoUDP
	)
	cases := []struct {
		name    string
		locked  bool
		p       netfilter.Packet
		verdict netfilter.Verdict
		comment string
	}{
		{"fw4-lan-wan-udp500", false, lanToWAN(v4, udp, 500, "new"), netfilter.Accept, toWAN},
		{"fw4-lan-wan-esp6", false, lanToWAN(v6, vpn.ProtoESP, 0, "new"), netfilter.Accept, toWAN},
		{"fw4-locked-udp500", true, lanToWAN(v4, udp, 500, "new"), netfilter.Reject, rejAny},
		{"fw4-locked-tcp1723", true, lanToWAN(v4, tcp, 1723, "new"), netfilter.Reject, rejTCP},
		{"fw4-reply-established", true, wanToLAN(v4, udp, 500, "established"), netfilter.Accept, flows},
		{"fw4-invalid-leak", false, lanToWAN(v4, udp, 4500, "invalid"), netfilter.Drop, leakage},
		{"fw4-wan-lan-esp", false, wanToLAN(v4, vpn.ProtoESP, 0, "new"), netfilter.Accept, toLAN},
		{"fw4-wan-lan-gre", false, wanToLAN(v4, vpn.ProtoGRE, 0, "new"), netfilter.Reject, rejAny},
	}
	rulesets := map[bool]*Ruleset{}
	for _, locked := range []bool{false, true} {
		ns := newNS(t)
		ns.load(t, fw4Ruleset(t, locked))
		rulesets[locked] = ns.read(t)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := rulesets[c.locked]
			e := forward(t, rs, c.p)
			if e.Verdict != c.verdict || e.DecidedBy == nil || e.DecidedBy.Comment != c.comment {
				t.Errorf("got %s by %+v, want %s by rule %q", e.Verdict, e.DecidedBy, c.verdict, c.comment)
			}
			checkHandles(t, rs, e)
			golden(t, c.name, pathText(e))
		})
	}
}

// TestFW4Facts checks the facts status reports on fw4's default ruleset.
func TestFW4Facts(t *testing.T) {
	ns := newNS(t)
	ns.load(t, fw4Ruleset(t, false))
	rs := ns.read(t)
	if !rs.HasTable("inet", "fw4") {
		t.Errorf("tables %v: no inet fw4", rs.TableRefs())
	}
	if x := rs.XtablesTables(); len(x) != 0 {
		t.Errorf("fw4 marked as xtables: %v", x)
	}
	as := rs.HelperAssignments("pptp")
	if len(as) != 1 {
		t.Fatalf("pptp assignments %+v, want fw4's helper_lan rule", as)
	}
	a := as[0]
	if a.Table != "fw4" || a.Chain != "helper_lan" || a.Object != "pptp" || a.L4Proto != vpn.ProtoTCP ||
		!a.IPv4Only || len(a.Ports) != 1 || a.Ports[0] != 1723 || len(a.Hooks) != 1 || a.Hooks[0] != "prerouting" ||
		a.Comment != "!fw4: PPTP VPN connection tracking" {
		t.Errorf("assignment %+v", a)
	}
	if got := rs.HelperAssignments("sip"); len(got) != 1 || got[0].IPv4Only || got[0].Ports[0] != 5060 {
		t.Errorf("sip assignments %+v", got)
	}
	if !rs.Masquerade("eth1") {
		t.Error("fw4 masquerades out of eth1, Masquerade says no")
	}
	if rs.Masquerade("eth9") {
		t.Error("fw4 does not masquerade out of eth9, Masquerade says yes")
	}
	// The flowtable was dropped from the fixture: this kernel has none.
	if got := rs.FlowOffload(); got != "none" {
		t.Errorf("FlowOffload = %q without a flowtable", got)
	}
}
