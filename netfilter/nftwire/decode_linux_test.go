package nftwire

import (
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// TestDecodeUnion decodes one expression of every kind either former
// decoder knew (netfilter/nft's: ct with a u8 direction, notrack and the
// library's table; netfilter/nfteval's: also dup, socket, synproxy, tproxy,
// byteorder, rt, xfrm) and requires its library type back, or *Opaque for
// the ones we only recognise.
func TestDecodeUnion(t *testing.T) {
	known := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte("eth")},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{6, 0, 0, 0}, Xor: []byte{0, 0, 0, 0}},
		&expr.Lookup{SourceRegister: 1, SetName: "s", SetID: 1},
		&expr.Immediate{Register: 1, Data: []byte{1, 2}},
		&expr.Verdict{Kind: expr.VerdictGoto, Chain: "c"},
		&expr.Counter{Bytes: 1, Packets: 2},
		&expr.Ct{Key: expr.CtKeySRC, Register: 1}, // replaced by the kernel's encoding below
		&expr.Ct{Key: expr.CtKeyMARK, Register: 1, SourceRegister: true},
		&expr.Notrack{},
		&expr.Objref{Type: 3, Name: "pptp"},
		&expr.Reject{Type: 1},
		&expr.Masq{},
		&expr.Log{Key: 1 << unix.NFTA_LOG_PREFIX, Data: []byte("x")},
		&expr.Limit{Type: expr.LimitTypePkts, Rate: 5, Unit: expr.LimitTimeSecond, Burst: 5},
		&expr.Dup{RegAddr: 1, RegDev: 2, IsRegDevSet: true},
		&expr.Socket{Key: expr.SocketKeyTransparent, Register: 1},
		&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 2},
	}
	elems := listElems(t, known)
	// `ct reply ip saddr`: the kernel sends NFTA_CT_DIRECTION as a u8 (the
	// library would marshal, and decode, a u32).
	elems[8] = rawElem(t, "ct", []netlink.Attribute{{Type: unix.NFTA_CT_KEY, Data: be(expr.CtKeySRC)},
		{Type: unix.NFTA_CT_DREG, Data: be(1)}, {Type: unix.NFTA_CT_DIRECTION, Data: []byte{1}}})
	got, compat, err := DecodeExprs(unix.NFPROTO_INET, marshal(t, elems))
	if err != nil || compat || len(got) != len(known) {
		t.Fatalf("DecodeExprs: %d of %d expressions, compat %v, %v", len(got), len(known), compat, err)
	}
	for i, want := range known {
		if reflect.TypeOf(got[i]) != reflect.TypeOf(want) {
			t.Errorf("%d: decoded %T, want %T", i, got[i], want)
		}
	}
	if ct, ok := got[8].(*expr.Ct); !ok || ct.Direction != 1 || ct.Key != expr.CtKeySRC {
		t.Errorf("ct reply saddr decoded as %#v", got[8])
	}
	if ct, ok := got[9].(*expr.Ct); !ok || !ct.SourceRegister {
		t.Errorf("ct mark set decoded as %#v", got[9])
	}
}

// TestDecodeOpaque: expressions the library does not decode, or decodes
// only in part, stay visible as *Opaque naming them.
func TestDecodeOpaque(t *testing.T) {
	cases := []struct {
		name  string
		attrs []netlink.Attribute
		want  string
	}{
		{"osf", nil, "osf"}, // no library type
		// `meta mark lshift 1`: NFTA_BITWISE_OP 1 is a shift, not mask/xor.
		{"bitwise", []netlink.Attribute{{Type: unix.NFTA_BITWISE_SREG, Data: be(1)}, {Type: unix.NFTA_BITWISE_DREG, Data: be(1)},
			{Type: unix.NFTA_BITWISE_LEN, Data: be(4)}, {Type: attrBitwiseOp, Data: be(1)}}, "bitwise"},
		// `ipsec in reqid 1`: xfrm, which v0.3.0 lacks.
		{"xfrm", []netlink.Attribute{{Type: 1, Data: be(1)}}, "xfrm"},
		// `ct helper set udp dport map {...}`: the library reads no name.
		{"objref", []netlink.Attribute{{Type: unix.NFTA_OBJREF_SET_SREG, Data: be(1)}}, "objref map"},
	}
	for _, c := range cases {
		got, _, err := DecodeExprs(unix.NFPROTO_INET, marshal(t, [][]byte{rawElem(t, c.name, c.attrs)}))
		if o, ok := firstOf(got).(*Opaque); err != nil || len(got) != 1 || !ok || o.Name != c.want {
			t.Errorf("%s decoded as %#v, %v", c.name, firstOf(got), err)
		}
	}
}

func firstOf(e []expr.Any) expr.Any {
	if len(e) == 0 {
		return nil
	}
	return e[0]
}

// listElems marshals expressions as the elements of NFTA_RULE_EXPRESSIONS.
func listElems(t testing.TB, exprs []expr.Any) [][]byte {
	t.Helper()
	out := make([][]byte, 0, len(exprs))
	for _, e := range exprs {
		b, err := expr.Marshal(unix.NFPROTO_INET, e)
		if err != nil {
			t.Fatalf("marshal %T: %v", e, err)
		}
		out = append(out, b)
	}
	return out
}

// rawElem is one expression as the kernel sends it.
func rawElem(t testing.TB, name string, attrs []netlink.Attribute) []byte {
	t.Helper()
	data, err := netlink.MarshalAttributes(attrs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := netlink.MarshalAttributes([]netlink.Attribute{{Type: unix.NFTA_EXPR_NAME, Data: []byte(name + "\x00")},
		{Type: unix.NLA_F_NESTED | unix.NFTA_EXPR_DATA, Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// marshal wraps elements into the NFTA_RULE_EXPRESSIONS list.
func marshal(t testing.TB, elems [][]byte) []byte {
	t.Helper()
	attrs := make([]netlink.Attribute, 0, len(elems))
	for _, e := range elems {
		attrs = append(attrs, netlink.Attribute{Type: unix.NFTA_LIST_ELEM, Data: e})
	}
	b, err := netlink.MarshalAttributes(attrs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func be[T ~uint32 | ~int](v T) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

// TestSlowDecodeEveryName decodes one expression of every name the library
// decodes through slowDecode (the library's name table, reached through a
// dynset's expression) and requires what expr.Unmarshal into a fresh value
// of that type gives: the result of the former name table of our own.
func TestSlowDecodeEveryName(t *testing.T) {
	cases := []struct {
		name string
		e    expr.Any
	}{
		{"bitwise", &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{6, 0, 0, 0}, Xor: []byte{0, 0, 0, 0}}},
		{"cmp", &expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{1}}},
		{"connlimit", &expr.Connlimit{Count: 3, Flags: 1}},
		{"counter", &expr.Counter{Bytes: 1, Packets: 2}},
		{"ct", &expr.Ct{Key: expr.CtKeySTATE, Register: 1}},
		{"dup", &expr.Dup{RegAddr: 1, RegDev: 2, IsRegDevSet: true}},
		{"dynset", &expr.Dynset{SrcRegKey: 1, SetName: "s", Operation: 1}},
		{"exthdr", &expr.Exthdr{DestRegister: 1, Type: 43, Offset: 2, Len: 1}},
		{"fib", &expr.Fib{Register: 1, ResultOIF: true, FlagDADDR: true}},
		{"flow_offload", &expr.FlowOffload{Name: "ft"}},
		{"hash", &expr.Hash{SourceRegister: 1, DestRegister: 2, Length: 4, Modulus: 8}},
		{"immediate", &expr.Immediate{Register: 1, Data: []byte{1, 2}}},
		{"immediate", &expr.Verdict{Kind: expr.VerdictJump, Chain: "c"}},
		{"limit", &expr.Limit{Type: expr.LimitTypePkts, Rate: 5, Unit: expr.LimitTimeSecond, Burst: 5}},
		{"log", &expr.Log{Key: 1 << unix.NFTA_LOG_PREFIX, Data: []byte("x")}},
		{"lookup", &expr.Lookup{SourceRegister: 1, DestRegister: 0, SetName: "s", Invert: true}},
		{"masq", &expr.Masq{ToPorts: true, RegProtoMin: 1}},
		{"meta", &expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1}},
		{"nat", &expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1}},
		{"notrack", &expr.Notrack{}},
		{"numgen", &expr.Numgen{Register: 1, Modulus: 2, Type: 1}},
		{"objref", &expr.Objref{Type: 3, Name: "pptp"}},
		{"payload", &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 9, Len: 1}},
		{"queue", &expr.Queue{Num: 1, Total: 1}},
		{"quota", &expr.Quota{Bytes: 100, Over: true}},
		{"range", &expr.Range{Op: expr.CmpOpEq, Register: 1, FromData: []byte{1}, ToData: []byte{2}}},
		{"redir", &expr.Redir{RegisterProtoMin: 1}},
		{"reject", &expr.Reject{Type: 1, Code: 0}},
		{"socket", &expr.Socket{Key: expr.SocketKeyTransparent, Register: 1}},
		{"synproxy", &expr.SynProxy{Mss: 1460, Wscale: 7}},
		{"tproxy", &expr.TProxy{Family: unix.NFPROTO_IPV4, TableFamily: unix.NFPROTO_IPV4, RegPort: 1}},
	}
	for _, c := range cases {
		data, err := expr.MarshalExprData(unix.NFPROTO_INET, c.e)
		if err != nil {
			t.Fatalf("%s: marshal: %v", c.name, err)
		}
		want := reflect.New(reflect.TypeOf(c.e).Elem()).Interface().(expr.Any)
		if err := expr.Unmarshal(unix.NFPROTO_INET, data, want); err != nil {
			want = &Opaque{Name: c.name} // v0.3.0 cannot read its own tproxy
		}
		got := slowDecode(unix.NFPROTO_INET, c.name, data)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded %#v, want %#v", c.name, got, want)
		}
	}
	for _, name := range []string{"cthelper", "secmark", "nosuch"} {
		if o, ok := slowDecode(unix.NFPROTO_INET, name, nil).(*Opaque); !ok || o.Name != name {
			t.Errorf("%s: decoded %#v, want *Opaque", name, slowDecode(unix.NFPROTO_INET, name, nil))
		}
	}
}
