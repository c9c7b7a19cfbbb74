package nftwire

import (
	"testing"

	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// FuzzDecodeExprs: rule expressions are read from the kernel, and through
// it from whatever other program wrote the ruleset. Any bytes decode
// without a panic, every list element read before an error yields exactly
// one expression, and decoding is deterministic (the fast and slow paths
// agree with themselves).
func FuzzDecodeExprs(f *testing.F) {
	seeds := [][]expr.Any{
		{&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte("eth")}},
		{&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
			&expr.Lookup{SourceRegister: 1, SetName: "s", SetID: 1}, &expr.Verdict{Kind: expr.VerdictGoto, Chain: "c"}},
		{&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{6, 0, 0, 0}, Xor: []byte{0, 0, 0, 0}},
			&expr.Immediate{Register: 1, Data: []byte{1, 2}}, &expr.Counter{Bytes: 1, Packets: 2}},
		{&expr.Ct{Key: expr.CtKeyMARK, Register: 1, SourceRegister: true}, &expr.Notrack{}, &expr.Masq{},
			&expr.Objref{Type: 3, Name: "pptp"}, &expr.Limit{Type: expr.LimitTypePkts, Rate: 5, Unit: expr.LimitTimeSecond, Burst: 5}},
	}
	for _, s := range seeds {
		f.Add(byte(unix.NFPROTO_INET), marshal(f, listElems(f, s)))
	}
	f.Add(byte(unix.NFPROTO_IPV4), marshal(f, [][]byte{rawElem(f, "xfrm", []netlink.Attribute{{Type: 1, Data: be(1)}}),
		rawElem(f, "match", nil), rawElem(f, "ct", []netlink.Attribute{{Type: unix.NFTA_CT_DIRECTION, Data: []byte{1}}})}))
	f.Fuzz(func(t *testing.T, fam byte, b []byte) {
		exprs, compat, err := DecodeExprs(fam, b)
		elems := 0
		EachAttr(b, func(typ uint16, _ []byte) error {
			if typ == unix.NFTA_LIST_ELEM {
				elems++
			}
			return nil
		})
		if err == nil && len(exprs) != elems {
			t.Fatalf("%x: %d expressions from %d elements", b, len(exprs), elems)
		}
		again, compat2, err2 := DecodeExprs(fam, b)
		if len(again) != len(exprs) || compat2 != compat || (err == nil) != (err2 == nil) {
			t.Fatalf("%x: second decode differs", b)
		}
		for _, e := range exprs {
			if e == nil {
				t.Fatalf("%x: nil expression", b)
			}
		}
	})
}
