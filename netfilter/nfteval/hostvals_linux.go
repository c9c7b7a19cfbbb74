package nfteval

import (
	"bytes"
	"net"
	"net/netip"
	"sort"

	"github.com/google/nftables/expr"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
)

// maxHostValues bounds the values HostValues returns per family: each one
// costs an evaluation of every footprint element.
const maxHostValues = 64

// hostLoad is a register holding a host field (and the mask applied to it).
type hostLoad struct {
	field string
	n     int // the field's length
	got   int // bytes loaded: nft loads only a prefix's whole bytes
	mask  []byte
}

// HostValues lists the values the rules of the tables that see fam compare
// a packet's source or destination address or source MAC with: equality
// and prefixes, ranges, and the elements of sets (of one field, or the
// first field of a concatenation). They are what can make a verdict depend
// on the host, and where an arbitrary host must not be taken from.
func (rs *Ruleset) HostValues(fam vpn.Family) []netfilter.HostValue {
	seen := map[string]bool{}
	var out []netfilter.HostValue
	add := func(v netfilter.HostValue) {
		if !seen[v.Match] && len(out) < maxHostValues {
			seen[v.Match] = true
			netfilter.AddHostValues(&out, v)
		}
	}
	for _, t := range rs.Tables {
		if t.Xtables || !familyApplies(t.Family, fam) {
			continue
		}
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				scanRule(t, r, fam, add)
			}
		}
	}
	return out
}

func scanRule(t *Table, r *Rule, fam vpn.Family, add func(netfilter.HostValue)) {
	regs := map[uint32]*hostLoad{} // by pointer: a word per map value, never changed once stored
	for _, e := range r.Exprs {
		switch x := e.(type) {
		case *expr.Payload:
			if x.OperationType == expr.PayloadWrite {
				continue
			}
			if f, n := hostField(x, fam); f != "" {
				regs[x.DestRegister] = &hostLoad{field: f, n: n, got: int(x.Len)}
			} else {
				delete(regs, x.DestRegister)
			}
		case *expr.Bitwise:
			if l, ok := regs[x.SourceRegister]; ok {
				m := *l
				m.mask = x.Mask
				regs[x.DestRegister] = &m
			}
		case *expr.Cmp:
			if l, ok := regs[x.Register]; ok && (x.Op == expr.CmpOpEq || x.Op == expr.CmpOpNeq) {
				if v, ok := valueOf(l, x.Data, maskedHi(x.Data, l.mask)); ok {
					add(v)
				}
			}
		case *expr.Range:
			if l, ok := regs[x.Register]; ok {
				if v, ok := valueOf(l, x.FromData, x.ToData); ok {
					add(v)
				}
			}
		case *expr.Lookup:
			if l, ok := regs[x.SourceRegister]; ok {
				if s := t.Set(x.SetName); s != nil {
					for _, v := range setValues(s, l) {
						add(v)
					}
				}
			}
		}
	}
}

// hostField names the header field a payload load reads (or the start
// of, for a prefix), if it is one that singles out hosts, and its length.
func hostField(x *expr.Payload, fam vpn.Family) (string, int) {
	n := 4
	saddr, daddr := uint32(12), uint32(16)
	if fam == vpn.IPv6 {
		n, saddr, daddr = 16, 8, 24
	}
	switch {
	case x.Base == expr.PayloadBaseLLHeader && x.Offset == 6 && x.Len == 6:
		return netfilter.FieldEtherSaddr, 6
	case x.Base != expr.PayloadBaseNetworkHeader || x.Len == 0 || int(x.Len) > n:
		return "", 0
	case x.Offset == saddr:
		return netfilter.FieldSaddr, n
	case x.Offset == daddr:
		return netfilter.FieldDaddr, n
	}
	return "", 0
}

// maskedHi is the highest value a masked comparison with data matches.
func maskedHi(data, mask []byte) []byte {
	hi := append([]byte(nil), data...)
	for i := range hi {
		if i < len(mask) {
			hi[i] |= ^mask[i]
		}
	}
	return hi
}

// valueOf turns a compared range into a HostValue.
func valueOf(l *hostLoad, lo, hi []byte) (netfilter.HostValue, bool) {
	if len(lo) < l.got || len(hi) < l.got {
		return netfilter.HostValue{}, false
	}
	// Bytes not loaded match anything.
	lo = append(append([]byte(nil), lo[:l.got]...), make([]byte, l.n-l.got)...)
	hi = append(append([]byte(nil), hi[:l.got]...), bytes.Repeat([]byte{0xff}, l.n-l.got)...)
	if l.field == netfilter.FieldEtherSaddr {
		mac := net.HardwareAddr(append([]byte(nil), lo[:6]...))
		return netfilter.HostValue{Field: l.field, MAC: mac, Match: "ether saddr " + mac.String(), Value: mac.String()}, true
	}
	a, ok1 := netip.AddrFromSlice(lo[:l.n])
	b, ok2 := netip.AddrFromSlice(hi[:l.n])
	if !ok1 || !ok2 || b.Less(a) {
		return netfilter.HostValue{}, false
	}
	text := a.String()
	if a != b {
		text = rangeText(a, b)
	}
	kw := "ip "
	if l.n == 16 {
		kw = "ip6 "
	}
	return netfilter.HostValue{Field: l.field, Lo: a, Hi: b, Match: kw + l.field + " " + text, Value: text}, true
}

// rangeText spells a range as a prefix when it is one.
func rangeText(a, b netip.Addr) string {
	if n, ok := cidrLen(a.AsSlice(), b.AsSlice()); ok {
		return netip.PrefixFrom(a, n).String()
	}
	return a.String() + "-" + b.String()
}

// setValues lists a set's elements as ranges of the field at the start of
// its key: exact keys, rbtree boundaries (an interval runs from a start up
// to the next boundary) or pipapo key/key-end pairs.
func setValues(s *Set, l *hostLoad) []netfilter.HostValue {
	var out []netfilter.HostValue
	els := append([]Element(nil), s.Elements...)
	interval := s.Interval() && !s.hasKeyEnd()
	if interval {
		sort.Stable(byKey{els: els})
	}
	for i, e := range els {
		if len(e.Key) < l.got {
			continue
		}
		lo, hi := e.Key[:l.got], e.Key[:l.got]
		switch {
		case e.KeyEnd != nil && len(e.KeyEnd) >= l.got:
			hi = e.KeyEnd[:l.got]
		case interval && e.IntervalEnd:
			continue
		case interval:
			hi = intervalHi(els[i+1:], l.got)
		}
		if v, ok := valueOf(l, lo, hi); ok {
			netfilter.AddHostValues(&out, v)
		}
	}
	return out
}

// intervalHi is one below the next boundary (all ones when none follows).
func intervalHi(next []Element, n int) []byte {
	if len(next) == 0 || len(next[0].Key) < n {
		return bytes.Repeat([]byte{0xff}, n)
	}
	return minusOne(next[0].Key[:n])
}
