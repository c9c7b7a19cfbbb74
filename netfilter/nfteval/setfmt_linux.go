package nfteval

import (
	"bytes"
	"sort"
	"strconv"
	"strings"

	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

// maxShown bounds how many set elements a summary lists.
const maxShown = 10

// elements prints an anonymous set's elements: `{ 500, 4500 }`,
// `{ established : accept, related : accept }`.
func (rd *renderer) elements(s *Set, parts []desc) string {
	var items []string
	if s.Interval() && !s.hasKeyEnd() {
		items = rd.intervals(s, &parts[0])
	} else {
		els := sortedElements(s.Elements, parts[0].kind)
		for i := range els {
			slicex.Strings(&items, rd.element(s, parts, &els[i]))
		}
	}
	if len(items) > maxShown {
		items = append(items[:maxShown], "…")
	}
	return "{ " + strings.Join(items, ", ") + " }"
}

func (rd *renderer) element(s *Set, parts []desc, e *Element) string {
	fields := []uint32{uint32(len(e.Key))}
	if len(parts) > 1 {
		fields = fields[:0]
		for _, p := range parts {
			fields = append(fields, uint32(p.size))
		}
	}
	var out []string
	off := 0
	for i, n := range fields {
		d := parts[0]
		if i < len(parts) {
			d = parts[i]
		}
		if off+int(n) > len(e.Key) {
			break
		}
		v := rd.value(&d, e.Key[off:off+int(n)])
		if e.KeyEnd != nil && off+int(n) <= len(e.KeyEnd) && !bytes.Equal(e.Key[off:off+int(n)], e.KeyEnd[off:off+int(n)]) {
			v += "-" + rd.value(&d, e.KeyEnd[off:off+int(n)])
		}
		slicex.Strings(&out, v)
		off += (int(n) + 3) &^ 3
	}
	return strings.Join(out, " . ") + rd.data(s, e)
}

func (rd *renderer) data(s *Set, e *Element) string {
	switch {
	case e.Verdict != nil:
		return " : " + nftwire.VerdictText(e.Verdict)
	case s.IsMap():
		return " : " + hexOf(e.Data)
	}
	return ""
}

// sortedElements orders elements by value (the kernel dumps hash sets in
// hash order): big-endian keys by bytes, host-order keys as numbers, so the
// order is the same on every architecture.
func sortedElements(els []Element, k kind) []Element {
	out := append([]Element(nil), els...)
	hostOrder := k == kCtState || k == kHostInt || k == kIfindex
	sort.Stable(byKey{out, hostOrder && !bigEndianHost})
	return out
}

// byKey orders elements by their key bytes, each key reversed when rev
// (host-order numbers on a little-endian host). One sort.Interface for
// every sort of elements: less and swap closures per site cost more.
type byKey struct {
	els []Element
	rev bool
}

func (b byKey) Len() int           { return len(b.els) }
func (b byKey) Swap(i, j int)      { b.els[i], b.els[j] = b.els[j], b.els[i] }
func (b byKey) Less(i, j int) bool { return bytes.Compare(b.key(i), b.key(j)) < 0 }

func (b byKey) key(i int) []byte {
	k := b.els[i].Key
	if !b.rev {
		return k
	}
	r := make([]byte, len(k))
	for i := range k {
		r[i] = k[len(k)-1-i]
	}
	return r
}

// intervals turns rbtree boundaries back into ranges.
func (rd *renderer) intervals(s *Set, d *desc) []string {
	els := append([]Element(nil), s.Elements...)
	sort.Stable(byKey{els: els})
	var out []string
	for i := range els {
		e := &els[i]
		if e.IntervalEnd {
			continue
		}
		last := bytes.Repeat([]byte{0xff}, len(e.Key))
		if i+1 < len(els) && els[i+1].IntervalEnd {
			last = minusOne(els[i+1].Key)
		}
		slicex.Strings(&out, rd.rangeString(d, e.Key, last)+rd.data(s, e))
	}
	return out
}

func (rd *renderer) rangeString(d *desc, first, last []byte) string {
	switch {
	case bytes.Equal(first, last):
		return rd.value(d, first)
	case d.kind == kIfname:
		n := 0
		for n < len(first) && first[n] == last[n] && first[n] != 0 {
			n++
		}
		return strconv.Quote(string(first[:n]) + "*")
	case d.kind == kAddr:
		if n, ok := cidrLen(first, last); ok {
			return rd.value(d, first) + "/" + utoa(uint64(n))
		}
	}
	return rd.value(d, first) + "-" + rd.value(d, last)
}

// cidrLen returns n when first..last is exactly the prefix first/n.
func cidrLen(first, last []byte) (int, bool) {
	mask := make([]byte, len(first))
	for i := range first {
		if first[i]&^last[i] != 0 {
			return 0, false
		}
		mask[i] = ^(first[i] ^ last[i])
	}
	n, ok := prefixLen(mask)
	if !ok {
		return 0, false
	}
	for i := range first {
		if first[i]&^mask[i] != 0 || last[i]|mask[i] != 0xff {
			return 0, false
		}
	}
	return n, true
}

// minusOne returns b-1 as a big-endian number.
func minusOne(b []byte) []byte {
	out := append([]byte(nil), b...)
	for i := len(out) - 1; i >= 0; i-- {
		out[i]--
		if out[i] != 0xff {
			break
		}
	}
	return out
}
