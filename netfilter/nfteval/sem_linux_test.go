package nfteval

import (
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
)

// base wraps rules in an inet table with a forward base chain.
func base(policy string, rules ...string) string {
	return "table inet sem {\n" + semSets + "\tchain forward_base {\n\t\ttype filter hook forward priority 0; policy " +
		policy + ";\n\t\t" + strings.Join(rules, "\n\t\t") + "\n\t}\n" + semChains + "}\n"
}

const semSets = `	set servers { type ipv4_addr; flags interval; elements = { 203.0.113.0/24, 198.51.100.7 } }
	set natt { type ipv4_addr . inet_service; flags interval; elements = { 203.0.113.0/24 . 4500-4501 } }
	map ports { type inet_service : verdict; elements = { 1701 : jump to_l2tp, 1723 : goto to_pptp } }
`

const semChains = `	chain to_l2tp { ip daddr 203.0.113.10 drop comment "l2tp-drop"; }
	chain to_pptp { counter; }
`

type semCase struct {
	name    string
	ruleset string
	mod     func(*netfilter.Packet)
	p       netfilter.Packet
	verdict netfilter.Verdict
	by      string // comment of the deciding rule, or "policy"
	gold    bool   // compare the path with testdata/sem-<name>.golden
}

func with(p netfilter.Packet, mod func(*netfilter.Packet)) netfilter.Packet {
	mod(&p)
	return p
}

// TestSemantics checks the evaluator against kernel semantics, one small
// ruleset per case, loaded with nft into a namespace and read back.
func TestSemantics(t *testing.T) {
	udp := func(port uint16) netfilter.Packet { return lanToWAN(vpn.IPv4, vpn.ProtoUDP, port, "new") }
	tcp := func(port uint16) netfilter.Packet { return lanToWAN(vpn.IPv4, vpn.ProtoTCP, port, "new") }
	dst := func(a string) func(*netfilter.Packet) {
		return func(p *netfilter.Packet) { p.Dst = netip.MustParseAddr(a) }
	}
	noSrc := func(p *netfilter.Packet) { p.Src = netip.Addr{} }
	noDst := func(p *netfilter.Packet) { p.Dst = netip.Addr{} }
	state := func(s string) func(*netfilter.Packet) { return func(p *netfilter.Packet) { p.CtState = s } }
	inIf := func(s string) func(*netfilter.Packet) { return func(p *netfilter.Packet) { p.InIf = s } }
	const (
		A, D, R, U = netfilter.Accept, netfilter.Drop, netfilter.Reject, netfilter.Uncertain
	)
	policyDrop := base("drop", `ct state established,related accept comment "est"`)
	limit := base("accept", `udp dport 500 limit rate 10/second drop comment "rate"`)
	logLimit := base("accept", `limit rate 5/minute log prefix "fw: "`, `udp dport 500 drop comment "d"`)
	mark := base("accept", `meta mark 0x1 udp dport 9 drop comment "m9"`, `meta mark 0x1 drop comment "m"`)
	servers := base("accept", `ip daddr @servers udp dport 500 drop comment "s"`)
	natt := base("accept", `ip daddr . udp dport @natt drop comment "c"`)
	vmap := base("accept", `udp dport vmap @ports`, `tcp dport vmap @ports`, `drop comment "after"`)
	wild := base("drop", `iifname "br-*" udp dport 500 accept comment "w"`)
	ctmask := base("drop", `ct state new,established udp dport 500 accept comment "ne"`)
	inv := base("accept", `udp dport != { 500, 4500 } drop comment "inv"`)
	rng := base("accept", `tcp dport 1000-2000 reject comment "r"`)
	xfrm := base("accept", `udp dport 9 ipsec in reqid 1 drop comment "x9"`, `ipsec in reqid 1 drop comment "x"`)
	numgen := base("accept", `numgen random mod 100 < 30 drop comment "loss"`)
	ret := base("drop", `udp dport 500 return`, `accept comment "all"`)
	ifset := base("drop", `iifname { "br-lan", "wl*" } accept comment "set"`)
	prefix := base("drop", `ip saddr 192.168.1.0/24 accept comment "lan"`)
	prefix20 := base("accept", `ip daddr 203.0.112.0/20 drop comment "p20"`)
	iif := base("drop", `iif "lo" accept comment "lo"`)
	cases := []semCase{
		{name: "policy-drop", ruleset: policyDrop, p: udp(500), verdict: D, by: "policy", gold: true},
		{name: "policy-drop-established", ruleset: policyDrop, p: udp(500), mod: state("established"), verdict: A, by: "est"},
		{name: "limit-uncertain", ruleset: limit, p: udp(500), verdict: U, by: "rate", gold: true},
		{name: "limit-other-port", ruleset: limit, p: udp(4500), verdict: A, by: "policy"},
		{name: "limit-log-harmless", ruleset: logLimit, p: udp(500), verdict: D, by: "d"},
		{name: "mark-then-mismatch", ruleset: mark, p: udp(500), verdict: U, by: "m", gold: true},
		{name: "set-interval-hit", ruleset: servers, p: udp(500), verdict: D, by: "s"},
		{name: "set-interval-single", ruleset: servers, p: udp(500), mod: dst("198.51.100.7"), verdict: D, by: "s"},
		{name: "set-interval-miss", ruleset: servers, p: udp(500), mod: dst("198.51.100.8"), verdict: A, by: "policy"},
		{name: "set-interval-unknown", ruleset: servers, p: udp(500), mod: noDst, verdict: U, by: "s"},
		{name: "concat-hit", ruleset: natt, p: udp(4500), verdict: D, by: "c"},
		{name: "concat-port-miss", ruleset: natt, p: udp(500), verdict: A, by: "policy"},
		{name: "concat-port-miss-dst-unknown", ruleset: natt, p: udp(500), mod: noDst, verdict: A, by: "policy"},
		{name: "concat-dst-unknown", ruleset: natt, p: udp(4501), mod: noDst, verdict: U, by: "c", gold: true},
		{name: "vmap-jump", ruleset: vmap, p: udp(1701), verdict: D, by: "l2tp-drop"},
		{name: "vmap-jump-return", ruleset: vmap, p: udp(1701), mod: dst("198.51.100.1"), verdict: D, by: "after", gold: true},
		{name: "vmap-goto", ruleset: vmap, p: tcp(1723), verdict: A, by: "policy", gold: true},
		{name: "vmap-miss", ruleset: vmap, p: udp(500), verdict: D, by: "after"},
		{name: "ifname-wildcard", ruleset: wild, p: udp(500), verdict: A, by: "w"},
		{name: "ifname-wildcard-miss", ruleset: wild, p: udp(500), mod: inIf("eth0"), verdict: D, by: "policy"},
		{name: "ifname-unknown", ruleset: wild, p: udp(500), mod: inIf(""), verdict: U, by: "w"},
		{name: "ct-mask-new", ruleset: ctmask, p: udp(500), verdict: A, by: "ne"},
		{name: "ct-mask-related", ruleset: ctmask, p: udp(500), mod: state("related"), verdict: D, by: "policy"},
		{name: "ct-mask-unknown", ruleset: ctmask, p: udp(500), mod: state(""), verdict: U, by: "ne"},
		{name: "inverted-set-in", ruleset: inv, p: udp(4500), verdict: A, by: "policy"},
		{name: "inverted-set-out", ruleset: inv, p: udp(1701), verdict: D, by: "inv"},
		{name: "range-in", ruleset: rng, p: tcp(1723), verdict: R, by: "r"},
		{name: "range-out", ruleset: rng, p: tcp(80), verdict: A, by: "policy"},
		{name: "opaque-after-mismatch", ruleset: xfrm, p: udp(500), verdict: U, by: "x"},
		{name: "numgen", ruleset: numgen, p: udp(500), verdict: U, by: "loss"},
		{name: "return-in-base", ruleset: ret, p: udp(500), verdict: D, by: "policy"},
		{name: "return-not-taken", ruleset: ret, p: udp(4500), verdict: A, by: "all"},
		{name: "ifname-set-wildcard", ruleset: ifset, p: udp(500), mod: inIf("wlan0"), verdict: A, by: "set"},
		{name: "ifname-set-miss", ruleset: ifset, p: udp(500), mod: inIf("eth0"), verdict: D, by: "policy"},
		{name: "prefix-known", ruleset: prefix, p: udp(500), verdict: A, by: "lan"},
		{name: "prefix-src-unknown", ruleset: prefix, p: udp(500), mod: noSrc, verdict: U, by: "lan"},
		{name: "prefix-bitwise-in", ruleset: prefix20, p: udp(500), verdict: D, by: "p20"},
		{name: "prefix-bitwise-out", ruleset: prefix20, p: udp(500), mod: dst("203.0.128.1"), verdict: A, by: "policy"},
		{name: "prefix-bitwise-unknown", ruleset: prefix20, p: udp(500), mod: noDst, verdict: U, by: "p20"},
		{name: "iif-index", ruleset: iif, p: udp(500), mod: inIf("lo"), verdict: A, by: "lo"},
		{name: "iif-device-not-here", ruleset: iif, p: udp(500), verdict: U, by: "lo"},
	}
	loaded := map[string]*Ruleset{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := loaded[c.ruleset]
			if rs == nil {
				ns := newNS(t)
				ns.load(t, c.ruleset)
				rs = ns.read(t)
				loaded[c.ruleset] = rs
			}
			p := c.p
			if c.mod != nil {
				p = with(p, c.mod)
			}
			e := forward(t, rs, p)
			by := ""
			if e.DecidedBy != nil {
				by = e.DecidedBy.Comment
				if e.DecidedBy.Policy != "" {
					by = "policy"
				}
			}
			if e.Verdict != c.verdict || by != c.by {
				t.Errorf("got %s by %q, want %s by %q\n%s", e.Verdict, by, c.verdict, c.by, pathText(e))
			}
			checkHandles(t, rs, e)
			if c.gold {
				golden(t, "sem-"+c.name, pathText(e))
			}
		})
	}
}
