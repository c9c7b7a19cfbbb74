package nftwire

import (
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Opaque stands in a decoded expression list for an expression the library
// does not decode, or decodes only in part (a ct or bitwise variant, an
// objref through a map). It exists only to be recognised: it must never be
// marshalled.
type Opaque struct {
	_ [0]func() // not comparable: no equality function to emit
	expr.Any
	Name string
	// Dreg, when non-zero, is the register the expression writes: it only
	// computes a value we cannot know (a shift, say) and has no other effect.
	Dreg uint32
}

// attrBitwiseOp is NFTA_BITWISE_OP, which the pinned x/sys lacks.
const attrBitwiseOp = 6

// DecodeExprs decodes the data of NFTA_RULE_EXPRESSIONS (a list of
// NFTA_LIST_ELEM) of a rule of table family fam. Every element yields one
// expression; one the library cannot decode is an *Opaque. compat reports
// xtables match/target expressions.
func DecodeExprs(fam byte, b []byte) (exprs []expr.Any, compat bool, err error) {
	err = EachAttr(b, func(typ uint16, elem []byte) error {
		if typ != unix.NFTA_LIST_ELEM {
			return nil
		}
		var name string
		var data []byte
		err := EachAttr(elem, func(typ uint16, v []byte) error {
			switch typ {
			case unix.NFTA_EXPR_NAME:
				name = exprNameString(v)
			case unix.NFTA_EXPR_DATA:
				data = v
			}
			return nil
		})
		if name == "match" || name == "target" {
			compat = true
		}
		exprs = append(exprs, decodeExpr(fam, name, data))
		return err
	})
	return exprs, compat, err
}

// exprNames turns expression names read from the wire into string
// constants without allocating (string(b) == n does not), the most frequent
// first.
var exprNames = [...]string{"cmp", "payload", "meta", "immediate", "counter", "lookup", "bitwise", "ct",
	"byteorder", "connlimit", "dup", "dynset", "exthdr", "fib", "flow_offload", "hash", "limit", "log", "masq",
	"match", "nat", "notrack", "numgen", "objref", "queue", "quota", "range", "redir", "reject", "rt",
	"socket", "synproxy", "target", "tproxy", "xfrm", "last"}

func exprNameString(b []byte) string {
	b = bytes.TrimRight(b, "\x00")
	for _, n := range exprNames {
		if string(b) == n {
			return n
		}
	}
	return string(b)
}

// ErrAttr reports a malformed attribute stream.
var ErrAttr = errors.New("malformed netlink attribute")

// EachAttr walks a netlink attribute stream (host-order headers, 4-byte
// aligned) without copying: fn gets views into b, which it must copy to
// keep. The library's decoders copy every value; on a 10k-rule dump that
// was most of the garbage.
func EachAttr(b []byte, fn func(typ uint16, data []byte) error) error {
	for len(b) >= 4 {
		n := int(binaryutil.NativeEndian.Uint16(b[0:2]))
		typ := binaryutil.NativeEndian.Uint16(b[2:4]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
		if n < 4 || n > len(b) {
			return ErrAttr
		}
		if err := fn(typ, b[4:n]); err != nil {
			return err
		}
		if n = (n + 3) &^ 3; n > len(b) {
			n = len(b)
		}
		b = b[n:]
	}
	return nil
}

// decodeExpr decodes one expression; unknown or undecodable ones become
// *Opaque.
func decodeExpr(fam byte, name string, data []byte) expr.Any {
	if e, ok := fastDecode(name, data); ok {
		return e
	}
	return slowDecode(fam, name, data)
}

// slowDecode decodes through the library, with repairs. The library
// trusts attribute lengths (a verdict of 2 bytes panics it): whatever it
// cannot take is an *Opaque, never a crash of the daemon.
func slowDecode(fam byte, name string, data []byte) (e expr.Any) {
	defer func() {
		if recover() != nil {
			e = &Opaque{Name: name}
		}
	}()
	var direct expr.Any
	switch name {
	case "byteorder", "rt", "xfrm":
		return decodeUnimplemented(name, data)
	case "cthelper", "ctexpect", "secmark", "cttimeout":
		return &Opaque{Name: name} // object types in the library's table, never rule expressions
	// Types the library has but its name table lacks:
	case "dup":
		direct = &expr.Dup{}
	case "socket":
		direct = &expr.Socket{}
	case "tproxy":
		direct = &expr.TProxy{}
	default:
		if e = libDecode(fam, name, data); e == nil {
			return &Opaque{Name: name}
		}
		return fixup(name, data, e)
	}
	if expr.Unmarshal(fam, data, direct) != nil {
		return &Opaque{Name: name}
	}
	return direct
}

// libDecode decodes one expression with the library's own name table
// (unexported): a dynset's NFTA_DYNSET_EXPR holds one expression as a rule
// does, name and data, and the library decodes it, with its special case
// of a verdict (an immediate into the verdict register without a value).
// nil when the library does not know the name or cannot decode the data.
func libDecode(fam byte, name string, data []byte) expr.Any {
	elem, err := netlink.MarshalAttributes([]netlink.Attribute{
		{Type: unix.NFTA_EXPR_NAME, Data: append([]byte(name), 0)}, {Type: unix.NFTA_EXPR_DATA, Data: data}})
	if err != nil {
		return nil
	}
	outer, err := netlink.MarshalAttributes([]netlink.Attribute{{Type: unix.NFTA_DYNSET_EXPR, Data: elem}})
	if err != nil {
		return nil
	}
	var d expr.Dynset
	if expr.Unmarshal(fam, outer, &d) != nil || len(d.Exprs) != 1 {
		return nil
	}
	return d.Exprs[0]
}

// fixup repairs what the library decodes only in part.
func fixup(name string, data []byte, e expr.Any) expr.Any {
	switch x := e.(type) {
	case *expr.Ct:
		// `ct mark set ...`: the library ignores NFTA_CT_SREG and would
		// present the statement as a load into the verdict register.
		if sreg := rawAttrs(data)[unix.NFTA_CT_SREG]; sreg != nil {
			x.SourceRegister, x.Register = true, be32(sreg)
		}
	case *expr.Bitwise:
		// Shifts (and newer boolean ops) are not mask/xor: we only know
		// they write their destination register.
		if op := rawAttrs(data)[attrBitwiseOp]; op != nil && be32(op) != 0 {
			return &Opaque{Name: name, Dreg: x.DestRegister}
		}
	case *expr.Objref:
		// `ct helper set udp dport map {...}`: the library reads no name.
		if rawAttrs(data)[unix.NFTA_OBJREF_SET_SREG] != nil {
			return &Opaque{Name: "objref map"}
		}
	}
	return e
}

// decodeUnimplemented decodes the expressions whose unmarshal v0.3.0 leaves
// "not yet implemented" (byteorder, rt) or lacks (xfrm).
func decodeUnimplemented(name string, data []byte) expr.Any {
	a := rawAttrs(data)
	switch name {
	case "rt", "xfrm":
		// NFTA_RT_DREG, NFTA_XFRM_DREG: a route or IPsec state property
		// we do not model, loaded into a register.
		return &Opaque{Name: name, Dreg: be32(a[1])}
	}
	// NFTA_BYTEORDER_SREG, _DREG, _OP, _LEN, _SIZE
	return &expr.Byteorder{SourceRegister: be32(a[1]), DestRegister: be32(a[2]),
		Op: expr.ByteorderOp(be32(a[3])), Len: be32(a[4]), Size: be32(a[5])}
}

// rawAttrs indexes the top-level attributes of types below 8 (all that
// fixup and decodeUnimplemented read) by type; nil: absent. An array, not
// a map: no map code for a handful of lookups (issue 16).
func rawAttrs(b []byte) (out [8][]byte) {
	_ = EachAttr(b, func(t uint16, v []byte) error {
		if int(t) < len(out) {
			out[t] = v
		}
		return nil
	})
	return out
}

func be32(b []byte) uint32 {
	if len(b) < 4 {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}
