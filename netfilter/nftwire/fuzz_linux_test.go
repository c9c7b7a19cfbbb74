package nftwire

import (
	"testing"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// FuzzDecodeExprs: rule expressions are read from the kernel, and through
// it from whatever other program wrote the ruleset. Any bytes decode
// without a panic, every list element read before an error yields exactly
// one expression, decoding is deterministic, and every expression both we
// and the library decode has the same value (sameAsLibrary).
func FuzzDecodeExprs(f *testing.F) {
	seeds := [][]expr.Any{
		{&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte("eth")}},
		{&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
			&expr.Lookup{SourceRegister: 1, SetName: "s", SetID: 1}, &expr.Verdict{Kind: expr.VerdictGoto, Chain: "c"}},
		{&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{6, 0, 0, 0}, Xor: []byte{0, 0, 0, 0}},
			&expr.Immediate{Register: 1, Data: []byte{1, 2}}, &expr.Counter{Bytes: 1, Packets: 2}},
		{&expr.Ct{Key: expr.CtKeyMARK, Register: 1, SourceRegister: true}, &expr.Notrack{}, &expr.Masq{},
			&expr.Objref{Type: 3, Name: "pptp"}, &expr.Limit{Type: expr.LimitTypePkts, Rate: 5, Unit: expr.LimitTimeSecond, Burst: 5}},
		{&expr.Log{Key: 1 << unix.NFTA_LOG_PREFIX, Data: []byte("x")}, &expr.NAT{Type: expr.NATTypeDestNAT, Family: 2, RegAddrMin: 1},
			&expr.Dynset{SrcRegKey: 1, SetName: "s", Operation: 1, Exprs: []expr.Any{&expr.Counter{}}},
			&expr.Match{Name: "comment", Info: ptr(xt.Comment("vpnpass"))}, &expr.Target{Name: "MASQUERADE", Info: &xt.NatIPv4MultiRangeCompat{{}}},
			&expr.Fib{Register: 1, ResultOIF: true, FlagDADDR: true}, &expr.Exthdr{DestRegister: 1, Type: 43, Offset: 2, Len: 1},
			&expr.Quota{Bytes: 100, Over: true}, &expr.Range{Op: expr.CmpOpEq, Register: 1, FromData: []byte{1}, ToData: []byte{2}}},
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
		_ = EachAttr(b, func(typ uint16, elem []byte) error {
			if typ == unix.NFTA_LIST_ELEM {
				name, data := rawExpr(elem)
				// Where our walk refuses what netlink's decoder took (a
				// zero-length attribute, which no kernel sends) ours is
				// *Opaque: TestDecodeMatchesLibrary holds real dumps to
				// the library's results *Opaque for *Opaque.
				// The fast path's names are compared on real dumps only
				// (TestFastDecode): it never checked sizes.
				if _, fast := fastDecode(name, data); fast {
					return nil
				}
				ours, lib := decodeExpr(fam, name, data), libDecodeExpr(fam, name, data)
				if _, opaque := ours.(*Opaque); !opaque && !sameAsLibrary(fam, ours, lib) {
					t.Fatalf("%x: %s: ours %#v, library %#v", b, name, ours, lib)
				}
			}
			return nil
		})
	})
}

func ptr[T any](v T) *T { return &v }
