package nfteval

import (
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
	"github.com/vpnpass/vpnpass/vpn"

	"os/exec"
	"testing"

	"github.com/google/nftables/expr"
	"github.com/vpnpass/vpnpass/netfilter"
)

const readRuleset = `table inet rd {
	ct helper pptp-h { type "pptp" protocol tcp; l3proto ip; }
	set servers { type ipv4_addr; flags interval; elements = { 203.0.113.0/24 } }
	set natt { type ipv4_addr . inet_service; flags interval; elements = { 203.0.113.0/24 . 4500-4501 } }
	map ports { type inet_service : verdict; elements = { 1701 : jump side, 500 : accept } }
	chain side { counter; }
	chain pre { type filter hook prerouting priority -150; policy accept;
		tcp dport 1723 ct helper set "pptp-h" comment "vpnpass:pptp"
		ct mark set meta mark
		ipsec in reqid 1 counter
		numgen random mod 100 < 30 counter
	}
	chain fwd_base { type filter hook forward priority 10; policy drop;
		udp dport vmap @ports
	}
}
table ip dorm {
	flags dormant;
	chain c { type filter hook forward priority 0; policy drop; }
}
`

// TestRead checks what Read brings back: chains, sets with their flags,
// field lengths and elements, verdict maps, ct helpers, comments, and the
// expressions the library does not decode.
func TestRead(t *testing.T) {
	ns := newNS(t)
	ns.load(t, readRuleset)
	rs := ns.read(t)
	tb := rs.Table("inet", "rd")
	if tb == nil || rs.Table("ip", "dorm") == nil || !rs.Table("ip", "dorm").Dormant() {
		t.Fatalf("tables %v", rs.TableRefs())
	}
	if c := tb.Chain("fwd_base"); c == nil || c.Hook != "forward" || c.Priority != 10 || c.Policy != netfilter.Drop || c.Type != "filter" {
		t.Errorf("fwd_base: %+v", c)
	}
	if c := tb.Chain("pre"); c == nil || c.Priority != -150 || len(c.Rules) != 4 || c.Rules[0].Comment != "vpnpass:pptp" {
		t.Fatalf("pre: %+v", c)
	}
	if h := tb.Helper("pptp-h"); h == nil || h.Type != "pptp" || h.L4Proto != vpn.ProtoTCP {
		t.Errorf("helper: %+v", h)
	}
	checkSets(t, tb)
	checkExprs(t, tb.Chain("pre"))
	// Dormant tables hook nothing.
	chains, err := rs.Chains("forward", vpn.IPv4)
	if err != nil || len(chains) != 1 || chains[0].Ref().Name != "fwd_base" {
		t.Errorf("forward chains %v, %v", chains, err)
	}
	if _, err := rs.Chains("sideways", vpn.IPv4); err == nil {
		t.Error("unknown hook accepted")
	}
	before := rs.Generation
	ns.nft(t, "add", "chain", "inet", "rd", "more")
	if after := ns.read(t).Generation; after == before {
		t.Errorf("generation %d did not change with the ruleset", after)
	}
}

func checkSets(t *testing.T, tb *Table) {
	t.Helper()
	s := tb.Set("servers")
	if s == nil || !s.Interval() || s.Anonymous() || s.KeyLen != 4 {
		t.Fatalf("servers: %+v", s)
	}
	ends := 0
	for _, e := range s.Elements {
		if e.IntervalEnd {
			ends++
		}
	}
	if ends == 0 || ends == len(s.Elements) {
		t.Errorf("servers elements %+v: want starts and interval ends", s.Elements)
	}
	n := tb.Set("natt")
	if n == nil || len(n.FieldLen) != 2 || n.FieldLen[0] != 4 || n.FieldLen[1] != 2 || len(n.Elements) != 1 || n.Elements[0].KeyEnd == nil {
		t.Errorf("natt: %+v", n)
	}
	m := tb.Set("ports")
	if m == nil || !m.IsVerdictMap() || len(m.Elements) != 2 {
		t.Fatalf("ports: %+v", m)
	}
	kinds := map[expr.VerdictKind]string{}
	for _, e := range m.Elements {
		if e.Verdict != nil {
			kinds[e.Verdict.Kind] = e.Verdict.Chain
		}
	}
	if side, ok := kinds[expr.VerdictJump]; !ok || side != "side" {
		t.Errorf("ports verdicts %v", kinds)
	}
	if _, ok := kinds[expr.VerdictAccept]; !ok {
		t.Errorf("ports verdicts %v", kinds)
	}
}

// checkExprs: ct set keeps its source register, xfrm (which the library
// cannot decode) is opaque, and the rule summaries say so.
func checkExprs(t *testing.T, pre *Chain) {
	t.Helper()
	var ctSet, opaque bool
	for _, e := range pre.Rules[1].Exprs {
		if c, ok := e.(*expr.Ct); ok && c.SourceRegister && c.Key == expr.CtKeyMARK {
			ctSet = true
		}
	}
	for _, e := range pre.Rules[2].Exprs {
		if o, ok := e.(*nftwire.Opaque); ok && o.Name == "xfrm" {
			opaque = true
		}
	}
	if !ctSet || !opaque {
		t.Errorf("ct set decoded: %v, xfrm opaque: %v", ctSet, opaque)
	}
	want := []string{`tcp dport 1723 ct helper set "pptp-h"`, "ct mark set meta mark", "[xfrm] 0x1 counter",
		"numgen random mod 100 < 30 counter"}
	for i, w := range want {
		if got := Summary(pre.Rules[i]); got != w {
			t.Errorf("rule %d: summary %q, want %q", i, got, w)
		}
	}
}

// TestXtables checks that tables iptables-nft manages are recognised, with
// or without compat expressions, and left out of Chains.
func TestXtables(t *testing.T) {
	for _, tool := range []string{"iptables-nft", "ip6tables-nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	ns := newNS(t)
	ns.load(t, "table ip mine {\n\tchain fwd_base { type filter hook forward priority 5; policy accept; }\n}\n")
	// A compat match (comment) in ip filter; only a policy in ip6 filter.
	ns.run(t, "iptables-nft", "-A", "FORWARD", "-p", "udp", "--dport", "500", "-m", "comment", "--comment", "x", "-j", "ACCEPT")
	ns.run(t, "ip6tables-nft", "-P", "FORWARD", "DROP")
	rs := ns.read(t)
	got := map[TableRef]bool{}
	for _, r := range rs.XtablesTables() {
		got[r] = true
	}
	if !got[TableRef{"ip", "filter"}] || !got[TableRef{"ip6", "filter"}] || got[TableRef{"ip", "mine"}] || len(got) != 2 {
		t.Errorf("xtables tables %v", rs.XtablesTables())
	}
	for _, fam := range []vpn.Family{vpn.IPv4, vpn.IPv6} {
		chains, err := rs.Chains("forward", fam)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range chains {
			if c.Ref().Table == "filter" {
				t.Errorf("%s: xtables chain %+v returned", fam, c.Ref())
			}
		}
	}
}

// TestEvaluateHookTables: an inet table and an ip table both hook forward;
// the ip table's drop policy decides IPv4, and IPv6 never meets it.
func TestEvaluateHookTables(t *testing.T) {
	ns := newNS(t)
	ns.load(t, `table inet first {
	chain fwd_base { type filter hook forward priority 0; policy accept;
		udp dport 500 accept comment "first-ike"
	}
}
table ip second {
	chain fwd_base { type filter hook forward priority 10; policy drop;
		ct state established accept
	}
}
`)
	rs := ns.read(t)
	e4 := forward(t, rs, lanToWAN(vpn.IPv4, vpn.ProtoUDP, 500, "new"))
	if e4.Verdict != netfilter.Drop || e4.DecidedBy.Table != "second" || e4.DecidedBy.Policy != "drop" {
		t.Errorf("IPv4: %s by %+v", e4.Verdict, e4.DecidedBy)
	}
	golden(t, "hook-two-tables-ipv4", pathText(e4))
	e6 := forward(t, rs, lanToWAN(vpn.IPv6, vpn.ProtoUDP, 500, "new"))
	if e6.Verdict != netfilter.Accept || e6.DecidedBy.Comment != "first-ike" {
		t.Errorf("IPv6: %s by %+v", e6.Verdict, e6.DecidedBy)
	}
	checkHandles(t, rs, e4)
	checkHandles(t, rs, e6)
}
