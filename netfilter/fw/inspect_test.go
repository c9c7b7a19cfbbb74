package fw

import (
	"github.com/vpnpass/vpnpass/vpn"
	"testing"

	nf "github.com/vpnpass/vpnpass/netfilter"
)

// portChain drops the listed UDP ports of one family and accepts the rest.
type portChain struct {
	table string
	drop  map[uint16]bool
	seen  []nf.Packet
}

func (c *portChain) Ref() nf.ChainRef {
	return nf.ChainRef{Backend: nf.KindNftables, Table: c.table, Name: "forward", Priority: 0}
}

func (c *portChain) Evaluate(p nf.Packet) nf.Explanation {
	c.seen = append(c.seen, p)
	if p.L4 == vpn.ProtoUDP && c.drop[p.DstPort] {
		return nf.Explanation{Verdict: nf.Drop, DecidedBy: &nf.Decider{Table: c.table, Chain: "forward", Handle: uint64(p.DstPort)}}
	}
	return nf.Explanation{Verdict: nf.Accept}
}

func TestEvaluateProtocols(t *testing.T) {
	v4 := &portChain{table: "v4", drop: map[uint16]bool{4500: true}}
	v6 := &portChain{table: "v6", drop: map[uint16]bool{1701: true}}
	o := InspectOptions{LANDevices: []string{"br-lan"}, WANDevice: "eth1",
		Desired: nf.Desired{vpn.IPsec: nf.ModeAllow}, Drift: map[vpn.Protocol]bool{vpn.IPsec: true}}
	got := evaluateProtocols(map[vpn.Family][]nf.Chain{vpn.IPv4: {v4}, vpn.IPv6: {v6}}, o)

	ipsec := got[vpn.IPsec]
	if ipsec.Mode != nf.ModeAllow || !ipsec.Drift {
		t.Errorf("ipsec mode/drift = %s/%v", ipsec.Mode, ipsec.Drift)
	}
	if ipsec.Verdict != nf.Drop {
		t.Errorf("ipsec verdict = %s, want drop (udp/4500 is dropped)", ipsec.Verdict)
	}
	// The IPv6 drop of L2TP must not change the protocol verdict: it is the
	// worst of the IPv4 elements only (NAT passthrough is an IPv4 matter).
	l2tp := got[vpn.L2TP]
	if l2tp.Verdict != nf.Accept {
		t.Errorf("l2tp verdict = %s, want accept", l2tp.Verdict)
	}
	var v6drop bool
	for _, e := range l2tp.Elements {
		if e.Family == vpn.IPv6 && e.Match == "udp/1701" {
			v6drop = e.Verdict == nf.Drop && e.DecidedBy.Table == "v6"
		}
	}
	if !v6drop {
		t.Errorf("l2tp IPv6 element not reported as dropped by v6: %+v", l2tp.Elements)
	}
	for _, p := range v4.seen {
		out := p.InIf == "br-lan" && p.OutIf == "eth1" && p.CtState == "new"
		back := p.InIf == "eth1" && p.OutIf == "br-lan" && (p.CtState == "established" || p.CtState == "related")
		if !(out || back) || p.Family != vpn.IPv4 {
			t.Fatalf("packet %+v: want new br-lan → eth1, or its established answer eth1 → br-lan", p)
		}
	}
	// Answers swap the ports: NAT-T clients send from 4500 too, so the
	// answer to udp/4500 goes to port 4500 and meets the fake's drop, while
	// ESP (no ports) comes back.
	for _, e := range ipsec.Elements {
		want := nf.Accept
		if e.Family == vpn.IPv4 && e.Match == "udp/4500" {
			want = nf.Drop
		}
		if e.Replies != want {
			t.Errorf("%s %s replies %s, want %s", e.Family, e.Match, e.Replies, want)
		}
	}
	if n := len(got[vpn.PPTP].Elements); n != 4 {
		t.Errorf("pptp has %d elements, want tcp/1723 and gre in both families", n)
	}
	if n := len(ipsec.Elements); n != 7 {
		t.Errorf("ipsec has %d elements, want 3 IPv4 + 4 IPv6 (AH for IPv6 only)", n)
	}
}
