package nfteval

import (
	"encoding/binary"
	"testing"

	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
	"github.com/vpnpass/vpnpass/vpn"
)

// ruleMessage is a NFT_MSG_NEWRULE payload as the kernel dumps it, built
// with the library's encoders (never literal bytes).
func ruleMessage(tb testing.TB, fam byte, exprs ...expr.Any) []byte {
	tb.Helper()
	var elems []netlink.Attribute
	for _, e := range exprs {
		b, err := expr.Marshal(fam, e)
		if err != nil {
			tb.Fatal(err)
		}
		elems = append(elems, netlink.Attribute{Type: unix.NFTA_LIST_ELEM, Data: b})
	}
	list, err := netlink.MarshalAttributes(elems)
	if err != nil {
		tb.Fatal(err)
	}
	ae := netlink.NewAttributeEncoder()
	ae.ByteOrder = binary.BigEndian // netfilter's integers
	ae.String(unix.NFTA_RULE_TABLE, "fw4")
	ae.String(unix.NFTA_RULE_CHAIN, "forward_wan")
	ae.Uint64(unix.NFTA_RULE_HANDLE, 7)
	ae.Bytes(unix.NLA_F_NESTED|unix.NFTA_RULE_EXPRESSIONS, list)
	b, err := ae.Encode()
	if err != nil {
		tb.Fatal(err)
	}
	return append([]byte{fam, 0, 0, 0}, b...)
}

// FuzzRuleEval: a rule dumped from the kernel (written there by fw4, by a
// vendor script or by anybody with CAP_NET_ADMIN) is decoded, summarised
// and evaluated against LAN and WAN packets without a panic and with one of
// the four verdicts, however odd its registers, lengths or verdicts.
func FuzzRuleEval(f *testing.F) {
	udp500 := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{vpn.ProtoUDP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: be16(500)},
		&expr.Verdict{Kind: expr.VerdictAccept},
	}
	f.Add(ruleMessage(f, unix.NFPROTO_INET, udp500...))
	f.Add(ruleMessage(f, unix.NFPROTO_INET, ctState(nftwire.CtStateBit("new")|nftwire.CtStateBit("established"))...))
	f.Add(ruleMessage(f, unix.NFPROTO_IPV4,
		&expr.Payload{DestRegister: 9, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 16},
		&expr.Bitwise{SourceRegister: 9, DestRegister: 1, Len: 4, Mask: []byte{255, 255, 0, 0}, Xor: []byte{0, 0, 0, 0}},
		&expr.Lookup{SourceRegister: 1, SetName: "missing", SetID: 3},
		&expr.Verdict{Kind: expr.VerdictJump, Chain: "nowhere"}))
	f.Add(ruleMessage(f, unix.NFPROTO_INET, &expr.Immediate{Register: 0, Data: []byte{1}}, &expr.Counter{},
		&expr.Ct{Key: expr.CtKeyHELPER, Register: 1}, &expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte("pptp\x00")},
		&expr.Objref{Type: 3, Name: "pptp"}, &expr.Verdict{Kind: expr.VerdictDrop}))
	f.Add([]byte{2, 0, 0, 0})
	pkts := []netfilter.Packet{
		lanToWAN(vpn.IPv4, vpn.ProtoUDP, 500, "new"), lanToWAN(vpn.IPv6, vpn.ProtoTCP, 1723, "established"),
		wanToLAN(vpn.IPv4, vpn.ProtoGRE, 0, "related"),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var names interner
		ro, err := decodeRule(netlink.Message{Data: data}, &names)
		if err != nil {
			return
		}
		rs := build(forwardTable(netfilter.Drop, ro.rule.Exprs))
		_ = Summary(rs.Tables[0].Chains[0].Rules[0])
		for _, p := range pkts {
			chains, err := rs.Chains("forward", p.Family)
			if err != nil || len(chains) != 1 {
				t.Fatalf("chains %v %v", chains, err)
			}
			switch v := chains[0].Evaluate(p).Verdict; v {
			case netfilter.Accept, netfilter.Drop, netfilter.Reject, netfilter.Uncertain:
			default:
				t.Fatalf("%x: verdict %q", data, v)
			}
		}
	})
}

// FuzzSetElement: set elements (keys, interval ends, verdict-map data) are
// decoded from any bytes without a panic.
func FuzzSetElement(f *testing.F) {
	ae := netlink.NewAttributeEncoder()
	ae.Nested(unix.NFTA_SET_ELEM_KEY, func(nae *netlink.AttributeEncoder) error {
		nae.Bytes(unix.NFTA_DATA_VALUE, []byte{192, 0, 2, 1})
		return nil
	})
	ae.Uint32(unix.NFTA_SET_ELEM_FLAGS, unix.NFT_SET_ELEM_INTERVAL_END)
	b, err := ae.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		ad, err := netlink.NewAttributeDecoder(data)
		if err != nil {
			return
		}
		var e Element
		_ = e.decode(ad)
		so := setOf{set: &Set{}}
		ad, _ = netlink.NewAttributeDecoder(data)
		for ad.Next() {
			decodeSetAttr(ad, &so)
		}
	})
}

// TestWireLengthsBounded: lengths and offsets read from the wire are u32.
// A rule claiming a 1 MiB payload or bitwise operand, or a payload at
// offset 2^32-16 (a negative int on 32-bit routers), is evaluated as an
// unknown value of at most one register file, not allocated nor indexed;
// a set key of any length renders as at most one part per register.
func TestWireLengthsBounded(t *testing.T) {
	var r regFile
	if got := len(r.read(1, 1<<20).v); got > regBytes {
		t.Errorf("read of 1 MiB returned %d bytes", got)
	}
	k := newPkt(lanToWAN(vpn.IPv4, vpn.ProtoUDP, 500, "new"), "forward", nil)
	for _, p := range []*expr.Payload{
		{Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 1 << 20},
		{Base: expr.PayloadBaseNetworkHeader, Offset: 0xfffffff0, Len: 8},
		{Base: expr.PayloadBaseLLHeader, Offset: 0, Len: 0xffffffff},
	} {
		if v, _ := k.payload(p); len(v.v) > regBytes {
			t.Errorf("payload %+v: %d bytes", p, len(v.v))
		}
		k.forget(&expr.Payload{Base: p.Base, Offset: p.Offset, Len: p.Len})
	}
	// A set key of 1 MiB names at most one part per register.
	set := &Set{Name: "s", KeyLen: 1 << 20, FieldLen: []uint32{0, 0}}
	rd := renderer{}
	if _, parts := rd.keyDesc(1, set); len(parts) > regBytes/4 {
		t.Errorf("a set key of 1 MiB rendered as %d parts", len(parts))
	}
}
