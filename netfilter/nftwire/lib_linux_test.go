package nftwire

import (
	"reflect"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// This file keeps, for tests only, the decoding through google/nftables
// that the product used before decodeOther (with the same repairs): the
// reference our own decoders must equal field for field.

// libSlowDecode decodes through the library, with repairs. The library
// trusts attribute lengths (a verdict of 2 bytes panics it): whatever it
// cannot take is an *Opaque, never a crash of the daemon.
func libSlowDecode(fam byte, name string, data []byte) (e expr.Any) {
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

// libDecodeExpr is what the library (with our repairs) decodes one
// expression into, *Opaque where it failed.
func libDecodeExpr(fam byte, name string, data []byte) expr.Any {
	return libSlowDecode(fam, name, data)
}

// sameAsLibrary compares our decoding with the library's. Where the library
// failed (an *Opaque) ours may be more lenient (the fast path never
// checked sizes). Deliberate differences, all on input no kernel sends or
// where the library was wrong, are normalised first:
//   - an xtables info other than a comment is kept raw (*xt.Unknown):
//     xt.Unmarshal of those bytes must give the library's value;
//   - the library decoded a dynset's expressions without our repairs (ct
//     statements, bitwise shifts, objref maps), so a dynset holding one is
//     compared without its expressions.
func sameAsLibrary(fam byte, ours, lib expr.Any) bool {
	if _, failed := lib.(*Opaque); failed {
		return true
	}
	switch o := ours.(type) {
	case *expr.Match:
		c := *o
		c.Info = rawInfo(o.Name, fam, o.Rev, o.Info)
		ours = &c
	case *expr.Target:
		c := *o
		c.Info = rawInfo(o.Name, fam, o.Rev, o.Info)
		ours = &c
	case *expr.Dynset:
		if l, ok := lib.(*expr.Dynset); ok && repairedInner(l.Exprs) {
			a, b := *o, *l
			a.Exprs, b.Exprs = nil, nil
			return reflect.DeepEqual(&a, &b)
		}
	}
	return reflect.DeepEqual(ours, lib)
}

func rawInfo(name string, fam byte, rev uint32, in xt.InfoAny) xt.InfoAny {
	u, ok := in.(*xt.Unknown)
	if !ok {
		return in
	}
	i, err := xt.Unmarshal(name, xt.TableFamily(fam), rev, *u)
	if err != nil {
		return nil // the library failed: no equal value
	}
	return i
}

func repairedInner(exprs []expr.Any) bool {
	for _, e := range exprs {
		switch e.(type) {
		case *expr.Ct, *expr.Bitwise, *expr.Objref, *expr.Dynset:
			return true
		}
	}
	return false
}
