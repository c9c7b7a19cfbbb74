package nft

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"

	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

// setResolver returns the interface names held by the set a lookup names.
type setResolver func(setName string) ([]string, error)

// canonical is a comparable form of a rule's expressions. Each expression is
// pushed through our encoder and the library's unmarshal, so a rule we build
// and the same rule read back (or rendered by nft from our include) give the
// same string, while any change someone makes to a rule gives another.
// Lookups are compared by the sorted members of their set, not by the set's
// kernel-assigned name.
func canonical(fam byte, exprs []expr.Any, sets setResolver) (string, error) {
	var b strings.Builder
	for _, e := range exprs {
		if l, ok := e.(*expr.Lookup); ok {
			names, err := sets(l.SetName)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "lookup(sreg=%d,dreg=%d/%v,inv=%v,%q);", l.SourceRegister, l.DestRegister, l.IsDestRegSet, l.Invert, sortedCopy(names))
			continue
		}
		n, err := normalize(fam, e)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%T%+v;", n, n)
	}
	return b.String(), nil
}

// normalize round-trips e through our batch encoder (the bytes we send,
// which are the library's: nftwire's TestExprDataMatchesLibrary) and the
// library's unmarshal into a fresh value. An expression vpnpass never
// writes fails to encode: its rule is then no rule of ours (canon "").
func normalize(fam byte, e expr.Any) (expr.Any, error) {
	data, err := nftwire.ExprData(e)
	if err != nil {
		return nil, err
	}
	fresh, ok := reflect.New(reflect.TypeOf(e).Elem()).Interface().(expr.Any)
	if !ok {
		return e, nil
	}
	if err := expr.Unmarshal(fam, data, fresh); err != nil {
		return nil, fmt.Errorf("unmarshal %T: %w", e, err)
	}
	return fresh, nil
}

// describe renders expressions in nft syntax for Change.Rule. It knows the
// shapes of the rules this package writes (and so renders them exactly as
// ruleSpec.text does); anything else is shown as its Go type in brackets.
func describe(exprs []expr.Any, comment string, sets setResolver) string {
	d := describer{exprs: exprs, sets: sets}
	for d.i < len(d.exprs) {
		d.step()
	}
	if comment != "" {
		d.words = append(d.words, "comment "+strconv.Quote(comment))
	}
	return strings.Join(d.words, " ")
}

type describer struct {
	exprs []expr.Any
	i     int
	words []string
	sets  setResolver
}

func (d *describer) peek(k int) expr.Any {
	if d.i+k < len(d.exprs) {
		return d.exprs[d.i+k]
	}
	return nil
}

func (d *describer) step() {
	e := d.exprs[d.i]
	n := 1
	var w string
	switch e := e.(type) {
	case *expr.Meta:
		w, n = d.meta(e)
	case *expr.Ct:
		w, n = d.ct(e)
	case *expr.Verdict:
		w = nftwire.VerdictText(e)
	case *expr.Objref:
		w = "ct helper set " + strconv.Quote(e.Name)
	}
	if w == "" {
		w, n = fmt.Sprintf("[%T]", e), 1
	}
	d.words = append(d.words, w)
	d.i += n
}

func (d *describer) meta(m *expr.Meta) (string, int) {
	switch next := d.peek(1).(type) {
	case *expr.Lookup:
		names, err := d.sets(next.SetName)
		if err != nil || m.Key != expr.MetaKeyIIFNAME && m.Key != expr.MetaKeyOIFNAME {
			return "", 1
		}
		return ifnameMatch(metaName(m.Key), sortedCopy(names)), 2
	case *expr.Cmp:
		if next.Op != expr.CmpOpEq {
			return "", 1
		}
		switch m.Key {
		case expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME:
			return metaName(m.Key) + " " + strconv.Quote(nftwire.IfnameString(next.Data)), 2
		case expr.MetaKeyNFPROTO:
			if len(next.Data) == 1 {
				return "meta nfproto " + nfprotoName(next.Data[0]), 2
			}
		case expr.MetaKeyL4PROTO:
			if len(next.Data) == 1 {
				return d.l4(next.Data[0])
			}
		}
	}
	return "", 1
}

// l4 renders `meta l4proto x`, folding a following destination-port match
// into `tcp dport N` or `udp sport N` as nft does.
func (d *describer) l4(p uint8) (string, int) {
	pl, ok1 := d.peek(2).(*expr.Payload)
	c, ok2 := d.peek(3).(*expr.Cmp)
	if ok1 && ok2 && pl.Base == expr.PayloadBaseTransportHeader && (pl.Offset == 0 || pl.Offset == 2) && pl.Len == 2 &&
		c.Op == expr.CmpOpEq && len(c.Data) == 2 && (p == vpn.ProtoTCP || p == vpn.ProtoUDP) {
		dir := "dport"
		if pl.Offset == 0 {
			dir = "sport"
		}
		return portMatch(p, dir, uint16(c.Data[0])<<8|uint16(c.Data[1])), 4
	}
	return "meta l4proto " + l4Name(p), 2
}

func (d *describer) ct(c *expr.Ct) (string, int) {
	switch c.Key {
	case expr.CtKeyDIRECTION:
		if cmp, ok := d.peek(1).(*expr.Cmp); ok && cmp.Op == expr.CmpOpEq && len(cmp.Data) == 1 {
			dir := "original"
			if cmp.Data[0] == ctDirReply {
				dir = "reply"
			}
			return "ct direction " + dir, 2
		}
	case expr.CtKeyPROTODST:
		if cmp, ok := d.peek(1).(*expr.Cmp); ok && cmp.Op == expr.CmpOpEq && len(cmp.Data) == 2 {
			dir := "original"
			if c.Direction == ctDirReply {
				dir = "reply"
			}
			return "ct " + dir + " proto-dst " + strconv.Itoa(int(cmp.Data[0])<<8|int(cmp.Data[1])), 2
		}
	case expr.CtKeySTATE:
		bw, ok1 := d.peek(1).(*expr.Bitwise)
		cmp, ok2 := d.peek(2).(*expr.Cmp)
		if ok1 && ok2 && cmp.Op == expr.CmpOpNeq && len(bw.Mask) == 4 {
			return "ct state " + nftwire.CtStateText(binaryutil.NativeEndian.Uint32(bw.Mask)), 3
		}
	}
	return "", 1
}

func metaName(k expr.MetaKey) string {
	if k == expr.MetaKeyIIFNAME {
		return "iifname"
	}
	return "oifname"
}
