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
	expr.Any
	Name string
	// Dreg, when non-zero, is the register the expression writes: it only
	// computes a value we cannot know (a shift, say) and has no other effect.
	Dreg uint32
}

// newExpr returns an empty expression of the library type for a kernel
// expression name, or nil when the library has none.
func newExpr(name string) expr.Any {
	switch name {
	case "bitwise":
		return &expr.Bitwise{}
	case "cmp":
		return &expr.Cmp{}
	case "connlimit":
		return &expr.Connlimit{}
	case "counter":
		return &expr.Counter{}
	case "ct":
		return &expr.Ct{}
	case "dup":
		return &expr.Dup{}
	case "dynset":
		return &expr.Dynset{}
	case "exthdr":
		return &expr.Exthdr{}
	case "fib":
		return &expr.Fib{}
	case "flow_offload":
		return &expr.FlowOffload{}
	case "hash":
		return &expr.Hash{}
	case "immediate":
		return &expr.Immediate{}
	case "limit":
		return &expr.Limit{}
	case "log":
		return &expr.Log{}
	case "lookup":
		return &expr.Lookup{}
	case "masq":
		return &expr.Masq{}
	case "match":
		return &expr.Match{}
	case "meta":
		return &expr.Meta{}
	case "nat":
		return &expr.NAT{}
	case "notrack":
		return &expr.Notrack{}
	case "numgen":
		return &expr.Numgen{}
	case "objref":
		return &expr.Objref{}
	case "payload":
		return &expr.Payload{}
	case "queue":
		return &expr.Queue{}
	case "quota":
		return &expr.Quota{}
	case "range":
		return &expr.Range{}
	case "redir":
		return &expr.Redir{}
	case "reject":
		return &expr.Reject{}
	case "socket":
		return &expr.Socket{}
	case "synproxy":
		return &expr.SynProxy{}
	case "target":
		return &expr.Target{}
	case "tproxy":
		return &expr.TProxy{}
	}
	return nil
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

// knownNames turns expression names read from the wire into the string
// constants above without allocating (map lookups by string(b) do not).
var knownNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"bitwise", "byteorder", "cmp", "connlimit", "counter", "ct", "dup", "dynset",
		"exthdr", "fib", "flow_offload", "hash", "immediate", "limit", "log", "lookup", "masq", "match", "meta",
		"nat", "notrack", "numgen", "objref", "payload", "queue", "quota", "range", "redir", "reject", "rt",
		"socket", "synproxy", "target", "tproxy", "xfrm", "last"} {
		m[n] = n
	}
	return m
}()

func exprNameString(b []byte) string {
	b = bytes.TrimRight(b, "\x00")
	if n, ok := knownNames[string(b)]; ok {
		return n
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

// slowDecode decodes through the library (expr.Unmarshal), with repairs.
// The library trusts attribute lengths (a verdict of 2 bytes panics it):
// whatever it cannot take is an *Opaque, never a crash of the daemon.
func slowDecode(fam byte, name string, data []byte) (e expr.Any) {
	defer func() {
		if recover() != nil {
			e = &Opaque{Name: name}
		}
	}()
	switch name {
	case "byteorder", "rt", "xfrm":
		return decodeUnimplemented(name, data)
	}
	e = newExpr(name)
	if e == nil {
		return &Opaque{Name: name}
	}
	if err := expr.Unmarshal(fam, data, e); err != nil {
		return &Opaque{Name: name}
	}
	// A verdict is an immediate into the verdict register without a value
	// (the library's own special case, repeated here).
	if imm, ok := e.(*expr.Immediate); ok && imm.Register == unix.NFT_REG_VERDICT && len(imm.Data) == 0 {
		v := &expr.Verdict{}
		if err := expr.Unmarshal(fam, data, v); err != nil {
			return &Opaque{Name: name}
		}
		return v
	}
	return fixup(name, data, e)
}

// fixup repairs what the library decodes only in part.
func fixup(name string, data []byte, e expr.Any) expr.Any {
	switch x := e.(type) {
	case *expr.Ct:
		// `ct mark set ...`: the library ignores NFTA_CT_SREG and would
		// present the statement as a load into the verdict register.
		if sreg, ok := rawAttrs(data)[unix.NFTA_CT_SREG]; ok {
			x.SourceRegister, x.Register = true, be32(sreg)
		}
	case *expr.Bitwise:
		// Shifts (and newer boolean ops) are not mask/xor: we only know
		// they write their destination register.
		if op, ok := rawAttrs(data)[attrBitwiseOp]; ok && be32(op) != 0 {
			return &Opaque{Name: name, Dreg: x.DestRegister}
		}
	case *expr.Objref:
		// `ct helper set udp dport map {...}`: the library reads no name.
		if _, ok := rawAttrs(data)[unix.NFTA_OBJREF_SET_SREG]; ok {
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

// rawAttrs maps attribute types to their data (top level only).
func rawAttrs(b []byte) map[uint16][]byte {
	out := map[uint16][]byte{}
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return out
	}
	for ad.Next() {
		out[ad.Type()] = ad.Bytes()
	}
	return out
}

func be32(b []byte) uint32 {
	if len(b) < 4 {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}
