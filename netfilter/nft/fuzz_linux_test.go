package nft

import (
	"encoding/binary"
	"testing"

	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

// FuzzDecodeRule: rules dumped from our tables and from fw4's (whatever
// else wrote them) decode without a panic; a rule reported complete holds
// no expression we could not decode, so it can be compared with ours.
func FuzzDecodeRule(f *testing.F) {
	rule := func(exprs ...expr.Any) []byte {
		var elems []netlink.Attribute
		for _, e := range exprs {
			b, err := expr.Marshal(unix.NFPROTO_INET, e)
			if err != nil {
				f.Fatal(err)
			}
			elems = append(elems, netlink.Attribute{Type: unix.NFTA_LIST_ELEM, Data: b})
		}
		list, err := netlink.MarshalAttributes(elems)
		if err != nil {
			f.Fatal(err)
		}
		ae := netlink.NewAttributeEncoder()
		ae.ByteOrder = binary.BigEndian
		ae.Uint64(unix.NFTA_RULE_HANDLE, 3)
		ae.Bytes(unix.NFTA_RULE_USERDATA, []byte{0, 6, 'v', 'p', 'n', 'p', 0})
		ae.Bytes(unix.NLA_F_NESTED|unix.NFTA_RULE_EXPRESSIONS, list)
		b, err := ae.Encode()
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(rule(&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{47}},
		&expr.Counter{}, &expr.Verdict{Kind: expr.VerdictAccept}))
	f.Add(rule(&expr.Ct{Key: expr.CtKeyHELPER, Register: 1}, &expr.Objref{Type: 3, Name: "pptp"}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, _, err := decodeRule(unix.NFPROTO_INET, b)
		if err != nil {
			return
		}
		for _, e := range r.Exprs {
			if _, opaque := e.(*nftwire.Opaque); opaque {
				t.Fatalf("%x: opaque expression kept", b)
			}
			if e == nil {
				t.Fatalf("%x: nil expression", b)
			}
		}
	})
}
