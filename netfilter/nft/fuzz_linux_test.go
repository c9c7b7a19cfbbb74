package nft

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

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
		r, _, err := nftwire.DecodeRule(unix.NFPROTO_INET, b)
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
		// The canonical form of whatever was read (nftwire's encoder on
		// decoded expressions) fails or succeeds, never panics.
		_, _ = canonical(unix.NFPROTO_INET, r.Exprs, func(string) ([]string, error) { return nil, nil })
	})
}

// FuzzDecodeElements: set elements read back (the observer's counters, the
// interface names of a foreign rule's set) decode without a panic, and the
// keys do not alias the netlink buffer, which is reused.
func FuzzDecodeElements(f *testing.F) {
	attrs := func(as ...netlink.Attribute) []byte {
		b, err := netlink.MarshalAttributes(as)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	be64 := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	counter := attrs(netlink.Attribute{Type: unix.NFTA_EXPR_NAME, Data: []byte("counter\x00")},
		netlink.Attribute{Type: unix.NLA_F_NESTED | unix.NFTA_EXPR_DATA, Data: attrs(
			netlink.Attribute{Type: unix.NFTA_COUNTER_BYTES, Data: be64(120)},
			netlink.Attribute{Type: unix.NFTA_COUNTER_PACKETS, Data: be64(1)})})
	elem := attrs(
		netlink.Attribute{Type: unix.NLA_F_NESTED | unix.NFTA_SET_ELEM_KEY, Data: attrs(netlink.Attribute{Type: unix.NFTA_DATA_VALUE, Data: []byte("br-lan\x00\x00")})},
		netlink.Attribute{Type: unix.NFTA_SET_ELEM_EXPIRATION, Data: be64(599000)},
		netlink.Attribute{Type: unix.NLA_F_NESTED | unix.NFTA_SET_ELEM_EXPR, Data: counter})
	body := attrs(netlink.Attribute{Type: unix.NFTA_SET_ELEM_LIST_TABLE, Data: []byte("t\x00")},
		netlink.Attribute{Type: unix.NLA_F_NESTED | unix.NFTA_SET_ELEM_LIST_ELEMENTS, Data: attrs(
			netlink.Attribute{Type: unix.NLA_F_NESTED | unix.NFTA_LIST_ELEM, Data: elem})})
	got, err := decodeElements(nil, body)
	if err != nil || len(got) != 1 || string(got[0].Key) != "br-lan\x00\x00" || got[0].Expires != 599*time.Second ||
		got[0].Counter == nil || got[0].Counter.Packets != 1 || got[0].Counter.Bytes != 120 {
		f.Fatalf("seed decodes to %+v, %v", got, err)
	}
	f.Add(body)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		els, err := decodeElements(nil, b)
		if err != nil {
			return
		}
		keys := make([][]byte, len(els))
		for i, e := range els {
			keys[i] = bytes.Clone(e.Key)
		}
		for i := range b {
			b[i] ^= 0xff
		}
		for i, e := range els {
			if !bytes.Equal(e.Key, keys[i]) {
				t.Fatalf("key %d aliases the buffer", i)
			}
		}
	})
}

// FuzzDecodeObject: the objects of our table read back decode without a
// panic, and names come without the kernel's NUL terminators (they are
// compared with ours).
func FuzzDecodeObject(f *testing.F) {
	attrs := func(as ...netlink.Attribute) []byte {
		b, err := netlink.MarshalAttributes(as)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	ours := attrs(netlink.Attribute{Type: unix.NFTA_OBJ_TABLE, Data: []byte(OurTable + "\x00")},
		netlink.Attribute{Type: unix.NFTA_OBJ_NAME, Data: []byte(HelperObject + "\x00")},
		netlink.Attribute{Type: unix.NFTA_OBJ_TYPE, Data: binary.BigEndian.AppendUint32(nil, unix.NFT_OBJECT_CT_HELPER)},
		netlink.Attribute{Type: unix.NLA_F_NESTED | unix.NFTA_OBJ_DATA, Data: attrs(
			netlink.Attribute{Type: unix.NFTA_CT_HELPER_NAME, Data: []byte("pptp\x00")},
			netlink.Attribute{Type: unix.NFTA_CT_HELPER_L3PROTO, Data: binary.BigEndian.AppendUint16(nil, unix.NFPROTO_IPV4)},
			netlink.Attribute{Type: unix.NFTA_CT_HELPER_L4PROTO, Data: []byte{unix.IPPROTO_TCP}})})
	var o object
	if err := nftwire.EachAttr(ours, o.attr); err != nil || !isOurHelper(o) {
		f.Fatalf("seed decodes to %+v, %v: not our helper", o, err)
	}
	f.Add(ours)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var o object
		if err := nftwire.EachAttr(b, o.attr); err != nil {
			return
		}
		if bytes.HasSuffix([]byte(o.name), []byte{0}) || bytes.HasSuffix([]byte(o.helper.Name), []byte{0}) {
			t.Fatalf("%q: a name keeps its NUL", o.name)
		}
	})
}
