package nfteval

import (
	"fmt"

	"github.com/vpnpass/vpnpass/netfilter/nftwire"
	"github.com/vpnpass/vpnpass/vpn"
	"golang.org/x/sys/unix"

	"testing"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/vpnpass/vpnpass/netfilter"
)

// These tests build rulesets from expression structs, as nft would encode
// them: they need no kernel and run on any architecture.

func build(tables ...*Table) *Ruleset {
	rs := &Ruleset{Tables: tables, Ifindex: map[string]uint32{"lo": 1}}
	rs.index()
	return rs
}

func forwardTable(policy netfilter.Verdict, rules ...[]expr.Any) *Table {
	c := &Chain{Name: "fwd", Hook: "forward", Type: "filter", Policy: policy}
	for i, r := range rules {
		c.Rules = append(c.Rules, &Rule{Handle: uint64(i + 2), Exprs: r, Comment: "r" + string(rune('0'+i))})
	}
	return &Table{Family: "inet", Name: "unit", Chains: []*Chain{c}}
}

func be16(v uint16) []byte { return binaryutil.BigEndian.PutUint16(v) }

// ctState is `ct state <bits> accept` as nft encodes it: a host-order mask.
func ctState(bits uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(bits), Xor: binaryutil.NativeEndian.PutUint32(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(0)},
		&expr.Verdict{Kind: expr.VerdictAccept},
	}
}

func evalUnit(t *testing.T, rs *Ruleset, p netfilter.Packet) netfilter.Explanation {
	t.Helper()
	chains, err := rs.Chains("forward", p.Family)
	if err != nil || len(chains) != 1 {
		t.Fatalf("chains %v %v", chains, err)
	}
	return chains[0].Evaluate(p)
}

func TestUnitRules(t *testing.T) {
	udp500 := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{vpn.ProtoUDP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: be16(500)},
	}
	opaque := append(append([]expr.Any{}, udp500...), &nftwire.Opaque{Name: "osf"}, &expr.Verdict{Kind: expr.VerdictDrop})
	wrongPort := append(append([]expr.Any{}, udp500[:3]...), &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: be16(9)},
		&nftwire.Opaque{Name: "osf"}, &expr.Verdict{Kind: expr.VerdictDrop})
	states := nftwire.CtStateBit("new") | nftwire.CtStateBit("established")
	p := lanToWAN(vpn.IPv4, vpn.ProtoUDP, 500, "new")
	cases := []struct {
		name    string
		rs      *Ruleset
		state   string
		verdict netfilter.Verdict
		by      string
	}{
		{"ct state new", build(forwardTable(netfilter.Drop, ctState(states))), "new", netfilter.Accept, "r0"},
		{"ct state related", build(forwardTable(netfilter.Drop, ctState(states))), "related", netfilter.Drop, ""},
		{"opaque reached", build(forwardTable(netfilter.Accept, opaque)), "new", netfilter.Uncertain, "r0"},
		{"opaque not reached", build(forwardTable(netfilter.Accept, wrongPort)), "new", netfilter.Accept, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := p
			q.CtState = c.state
			e := evalUnit(t, c.rs, q)
			by := ""
			if e.DecidedBy != nil {
				by = e.DecidedBy.Comment
			}
			if e.Verdict != c.verdict || by != c.by {
				t.Errorf("got %s by %q, want %s by %q\n%s", e.Verdict, by, c.verdict, c.by, pathText(e))
			}
		})
	}
}

func TestSetMatch(t *testing.T) {
	ip := func(a, b, c, d byte) []byte { return []byte{a, b, c, d} }
	// 10.0.0.0/8 and 192.168.1.1-192.168.1.9 as rbtree boundaries, unsorted.
	rb := &Set{Flags: setInterval, KeyLen: 4, Elements: []Element{
		{Key: ip(192, 168, 1, 10), IntervalEnd: true}, {Key: ip(10, 0, 0, 0)},
		{Key: ip(192, 168, 1, 1)}, {Key: ip(11, 0, 0, 0), IntervalEnd: true}, {Key: ip(0, 0, 0, 0), IntervalEnd: true},
	}}
	// 203.0.113.0/24 . 4500-4501 (pipapo: per-field ranges, port padded).
	concat := &Set{Flags: setInterval | setConcat, KeyLen: 8, FieldLen: []uint32{4, 2}, Elements: []Element{
		{Key: []byte{203, 0, 113, 0, 0x11, 0x94, 0, 0}, KeyEnd: []byte{203, 0, 113, 255, 0x11, 0x95, 0, 0}},
	}}
	exact := &Set{KeyLen: 2, Elements: []Element{{Key: be16(500)}, {Key: be16(4500)}}}
	key := func(b []byte, mask string) kbytes { return partly(b, mask) }
	cases := []struct {
		name string
		s    *Set
		k    kbytes
		want tri
	}{
		{"rbtree inside", rb, key(ip(10, 9, 9, 9), "...."), yes},
		{"rbtree end is exclusive", rb, key(ip(11, 0, 0, 0), "...."), no},
		{"rbtree range", rb, key(ip(192, 168, 1, 9), "...."), yes},
		{"rbtree below", rb, key(ip(9, 255, 255, 255), "...."), no},
		{"rbtree unknown inside one interval", rb, key(ip(10, 0, 0, 0), ".???"), yes},
		{"rbtree unknown across a boundary", rb, key(ip(192, 168, 1, 0), "...?"), maybe},
		{"rbtree unknown in a gap", rb, key(ip(172, 16, 0, 0), "..??"), no},
		{"concat hit", concat, key([]byte{203, 0, 113, 10, 0x11, 0x94, 0, 0}, "........"), yes},
		{"concat port out", concat, key([]byte{0, 0, 0, 0, 0x01, 0xf4, 0, 0}, "????...."), no},
		{"concat address unknown", concat, key([]byte{0, 0, 0, 0, 0x11, 0x95, 0, 0}, "????...."), maybe},
		{"exact hit", exact, key(be16(4500), ".."), yes},
		{"exact miss", exact, key(be16(1701), ".."), no},
		{"exact unknown low byte", exact, key(be16(4500), ".?"), maybe},
		{"exact unknown, high byte rules out", exact, key(be16(0x0600), ".?"), no},
	}
	for _, c := range cases {
		if got, _ := c.s.match(c.k); got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, got, c.want)
		}
	}
}

func TestFlowOffloadFact(t *testing.T) {
	offload := []expr.Any{&expr.FlowOffload{Name: "ft"}}
	for _, c := range []struct {
		name  string
		flags uint32
		rule  bool
		want  string
	}{
		{"software", 0, true, "software"},
		{"hardware", flowtableHWOffload, true, "hardware"},
		{"flowtable without rule", 0, false, "none"},
	} {
		tb := forwardTable(netfilter.Accept)
		if c.rule {
			tb = forwardTable(netfilter.Accept, offload)
		}
		tb.Flowtables = []*Flowtable{{Name: "ft", Flags: c.flags, Devices: []string{"eth0", "eth1"}}}
		if got := build(tb).FlowOffload(); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// TestDNATOfFamilyMismatch: an `ip` dnat in an inet table holds a 4-byte
// address; an IPv6 packet that reaches it must not panic DNATOf (the
// address was sliced to 16 bytes), and gets no IPv4 destination.
func TestDNATOfFamilyMismatch(t *testing.T) {
	c := &Chain{Name: "dstnat", Hook: "prerouting", Type: "nat", Priority: -100, Policy: netfilter.Accept}
	c.Rules = []*Rule{{Handle: 2, Exprs: []expr.Any{
		&expr.Immediate{Register: 1, Data: []byte{10, 0, 0, 2}},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1},
	}}}
	rs := build(&Table{Family: "inet", Name: "unit", Chains: []*Chain{c}})
	p := netfilter.Packet{Family: vpn.IPv6, L4: vpn.ProtoUDP, DstPort: 500, InIf: "lo", CtState: "new"}
	d, _, err := rs.DNATOf(p)
	if err != nil || !d.Found || d.To.IsValid() {
		t.Errorf("DNATOf = %+v, %v; want found without an address", d, err)
	}
}

// TestHexOf: hexOf prints what fmt's "0x%x" printed before it.
func TestHexOf(t *testing.T) {
	for _, b := range [][]byte{nil, {}, {0}, {0xab, 0x01}, {0xff, 0, 0x10, 0x7f}} {
		if got, want := hexOf(b), fmt.Sprintf("0x%x", b); got != want {
			t.Errorf("hexOf(%v) = %q, want %q", b, got, want)
		}
	}
}
