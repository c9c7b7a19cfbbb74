package nfteval

import (
	"strings"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/internal/slicex"
)

// Summary renders a rule in nft-like syntax for explanations:
// `iifname "br-lan" jump forward_lan`, `udp dport { 500, 4500 } accept`.
// It is meant for people, not for nft: protocol dependencies nft adds
// (`meta l4proto udp` before `udp dport`) are left out as nft's listing does.
func Summary(r *Rule) string {
	rd := renderer{t: r.Chain.Table, nfproto: tableNfproto(r.Chain.Table.Family)}
	for i, e := range r.Exprs {
		rd.expr(e, r.Exprs[i+1:])
	}
	return strings.Join(rd.out, " ")
}

// desc is what a register holds: a named field of size bytes, maybe masked.
type desc struct {
	field
	size int
	mask []byte
	ok   bool
}

type renderer struct {
	t       *Table
	regs    [regBytes / 4]desc
	nfproto byte
	l4      byte
	out     []string
}

// set records what reg now holds; the other 32-bit registers a long value
// spans forget what they held, so concatenations are read back right.
func (rd *renderer) set(reg uint32, d *desc) {
	off, ok := regOffset(reg)
	if !ok {
		return
	}
	d.ok = true
	rd.regs[off/4] = *d
	for i := off/4 + 1; i < off/4+(d.size+3)/4 && i < len(rd.regs); i++ {
		rd.regs[i] = desc{}
	}
}

func (rd *renderer) get(reg uint32) desc {
	if off, ok := regOffset(reg); ok && rd.regs[off/4].ok {
		return rd.regs[off/4]
	}
	return desc{field: field{"reg " + utoa(uint64(reg)), kHex}}
}

func (rd *renderer) emit(s string) { slicex.Strings(&rd.out, s) }

func (rd *renderer) expr(e expr.Any, rest []expr.Any) {
	// Meta, payload and ct load a field into a register or, with a source
	// register, set it.
	var f field
	var reg, sreg uint32
	size, isSet := 0, false
	switch x := e.(type) {
	case *expr.Meta:
		f, reg, size = metaField(x.Key), x.Register, metaLen(x.Key)
		sreg, isSet = x.Register, x.SourceRegister
	case *expr.Payload:
		f, reg, size = payloadField(x, rd.nfproto, rd.l4), x.DestRegister, int(x.Len)
		sreg, isSet = x.SourceRegister, x.OperationType == expr.PayloadWrite
	case *expr.Ct:
		f, reg, size = ctField(x), x.Register, ctLen(x.Key)
		sreg, isSet = x.Register, x.SourceRegister
	case *expr.Bitwise:
		d := rd.get(x.SourceRegister)
		d.mask, d.size = x.Mask, int(x.Len)
		rd.set(x.DestRegister, &d)
		return
	case *expr.Byteorder:
		d := rd.get(x.SourceRegister)
		d.kind = kHostInt
		if x.Op == expr.ByteorderHton {
			d.kind = kDec // now a big-endian number
		}
		rd.set(x.DestRegister, &d)
		return
	case *expr.Immediate:
		f, reg, size = field{hexOf(x.Data), kHex}, x.Register, len(x.Data)
	case *expr.Cmp:
		rd.cmp(x, rest)
		return
	case *expr.Range:
		d := rd.get(x.Register)
		op := ""
		if x.Op == expr.CmpOpNeq {
			op = " !="
		}
		rd.emit(d.name + op + " " + rd.value(&d, x.FromData) + "-" + rd.value(&d, x.ToData))
		return
	case *expr.Lookup:
		rd.lookup(x)
		return
	default:
		rd.statement(e)
		return
	}
	if isSet {
		rd.emit(f.name + " set " + rd.get(sreg).name)
		return
	}
	rd.set(reg, &desc{field: f, size: size})
}

// cmpOps spells the cmp operators after a field name, indexed by
// expr.CmpOp (eq is implicit). Names and values are never empty, so a
// match reads name + op + " " + value.
var cmpOps = [...]string{expr.CmpOpEq: "", expr.CmpOpNeq: " !=", expr.CmpOpLt: " <",
	expr.CmpOpLte: " <=", expr.CmpOpGt: " >", expr.CmpOpGte: " >="}

func cmpOp(op expr.CmpOp) string {
	if op < expr.CmpOp(len(cmpOps)) {
		return cmpOps[op]
	}
	return ""
}

func (rd *renderer) cmp(x *expr.Cmp, rest []expr.Any) {
	d := rd.get(x.Register)
	if x.Op == expr.CmpOpEq && len(x.Data) == 1 && d.mask == nil && rd.dependency(&d, x.Data[0], rest) {
		return
	}
	if d.mask != nil {
		rd.emit(rd.masked(&d, x))
		return
	}
	rd.emit(d.name + cmpOp(x.Op) + " " + rd.value(&d, x.Data))
}

// dependency records the protocol context a `meta nfproto`/`meta l4proto`
// match sets, and reports whether it only is the dependency of a later
// header match in the rule (which nft's listing hides as well).
func (rd *renderer) dependency(d *desc, v byte, rest []expr.Any) bool {
	switch d.name {
	case "meta nfproto":
		rd.nfproto = v
		return loadsPayload(rest, expr.PayloadBaseNetworkHeader)
	case "meta l4proto", "ip protocol", "ip6 nexthdr":
		rd.l4 = v
		named := v == unix.IPPROTO_TCP || v == unix.IPPROTO_UDP || v == unix.IPPROTO_ICMP || v == unix.IPPROTO_ICMPV6
		return named && loadsPayload(rest, expr.PayloadBaseTransportHeader)
	}
	return false
}

func loadsPayload(exprs []expr.Any, b expr.PayloadBase) bool {
	for _, e := range exprs {
		if p, ok := e.(*expr.Payload); ok && p.Base == b && p.OperationType == expr.PayloadLoad {
			return true
		}
	}
	return false
}

// masked renders `ct state established,related`, `ip saddr 10.0.0.0/8`,
// or generically `name & mask == value`.
func (rd *renderer) masked(d *desc, x *expr.Cmp) string {
	zero := allZero(x.Data)
	switch {
	case d.kind == kCtState && zero && x.Op == expr.CmpOpNeq:
		return d.name + " " + rd.value(d, d.mask)
	case d.kind == kCtState && zero && x.Op == expr.CmpOpEq:
		return d.name + " != " + rd.value(d, d.mask)
	case d.kind == kAddr && x.Op == expr.CmpOpEq:
		if n, ok := prefixLen(d.mask); ok {
			return d.name + " " + rd.value(&desc{field: d.field}, x.Data) + "/" + utoa(uint64(n))
		}
	}
	op := cmpOp(x.Op)
	if op == "" {
		op = " =="
	}
	plain := desc{field: d.field}
	return d.name + " & " + rd.value(&plain, d.mask) + op + " " + rd.value(&plain, x.Data)
}

func (rd *renderer) lookup(x *expr.Lookup) {
	set := rd.t.Set(x.SetName)
	key, parts := rd.keyDesc(x.SourceRegister, set)
	op := ""
	if x.Invert {
		op = " !="
	}
	var what string
	switch {
	case set == nil:
		what = "@" + x.SetName
	case set.Anonymous():
		what = rd.elements(set, parts)
	default:
		what = "@" + set.Name
	}
	switch {
	case x.IsDestRegSet && x.DestRegister == 0:
		rd.emit(key.name + " vmap " + what)
	case x.IsDestRegSet:
		rd.set(x.DestRegister, &desc{field: field{key.name + " map " + what, kHex}})
	default:
		rd.emit(key.name + op + " " + what)
	}
}

// keyDesc names a lookup key: one field, or a concatenation `a . b` whose
// fields sit in consecutive registers, each padded to 32 bits. The parts'
// sizes are the field lengths (the kernel describes them only for interval
// sets).
func (rd *renderer) keyDesc(reg uint32, set *Set) (desc, []desc) {
	d := rd.get(reg)
	off, ok := regOffset(reg)
	if set == nil || !ok || int(set.KeyLen) <= (d.size+3)&^3 {
		return d, []desc{d}
	}
	var names []string
	var parts []desc
	// KeyLen and the field lengths come from the wire: bounded by the
	// register file, and every part takes at least one register.
	for end := off + int(min(set.KeyLen, regBytes)); off < end; {
		p := desc{field: field{"?", kHex}, size: 4}
		if i := len(parts); i < len(set.FieldLen) {
			p.size = int(set.FieldLen[i])
		}
		if off/4 < len(rd.regs) && rd.regs[off/4].ok {
			p = rd.regs[off/4]
		}
		names, parts = append(names, p.name), append(parts, p)
		off += max(4, (p.size+3)&^3)
	}
	return desc{field: field{strings.Join(names, " . "), kHex}, size: int(set.KeyLen)}, parts
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
