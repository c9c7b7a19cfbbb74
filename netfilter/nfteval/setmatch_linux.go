package nfteval

import "bytes"

// match finds key in the set the way the kernel's set backends do: exact
// keys (hash), boundaries (rbtree, one-field intervals) or per-field ranges
// (pipapo, concatenated intervals). It answers maybe when unknown key bytes
// could make the difference, and returns the matching element on yes.
func (s *Set) match(key kbytes) (tri, *Element) {
	switch {
	case s.hasKeyEnd():
		return s.matchRanges(key)
	case s.Interval():
		return s.matchBoundaries(key)
	}
	return s.matchExact(key)
}

func (s *Set) hasKeyEnd() bool {
	for i := range s.Elements {
		if s.Elements[i].KeyEnd != nil {
			return true
		}
	}
	return false
}

func (s *Set) matchExact(key kbytes) (tri, *Element) {
	out := no
	for i := range s.Elements {
		e := &s.Elements[i]
		switch key.eq(e.Key) {
		case yes:
			return yes, e
		case maybe:
			out = maybe
		}
	}
	return out, nil
}

// matchBoundaries handles rbtree intervals: a value is in the set when the
// greatest boundary not above it starts an interval (an IntervalEnd boundary
// is one past the interval's last value). With unknown key bytes, the answer
// is sure only when no boundary lies between the lowest and highest value
// the key can hold.
func (s *Set) matchBoundaries(key kbytes) (tri, *Element) {
	lo, hi := key.bounds()
	var floor *Element
	for i := range s.Elements {
		e := &s.Elements[i]
		c := bytes.Compare(e.Key, lo)
		if c > 0 {
			if bytes.Compare(e.Key, hi) <= 0 {
				return maybe, nil
			}
			continue
		}
		if floor == nil || isLaterBoundary(e, floor) {
			floor = e
		}
	}
	if floor == nil || floor.IntervalEnd {
		return no, nil
	}
	return yes, floor
}

// isLaterBoundary orders boundaries; at equal keys an interval's start wins
// over the end of the one before (adjacent intervals).
func isLaterBoundary(e, than *Element) bool {
	c := bytes.Compare(e.Key, than.Key)
	return c > 0 || c == 0 && than.IntervalEnd && !e.IntervalEnd
}

// matchRanges handles Key..KeyEnd elements, field by field for
// concatenations (each field padded to 32 bits, compared over its length).
func (s *Set) matchRanges(key kbytes) (tri, *Element) {
	out := no
	for i := range s.Elements {
		e := &s.Elements[i]
		end := e.KeyEnd
		if end == nil {
			end = e.Key
		}
		switch s.inElement(key, e.Key, end) {
		case yes:
			return yes, e
		case maybe:
			out = maybe
		}
	}
	return out, nil
}

func (s *Set) inElement(key kbytes, from, to []byte) tri {
	fields := s.FieldLen
	if len(fields) == 0 {
		fields = []uint32{uint32(len(from))}
	}
	res, off := yes, 0
	for _, f := range fields {
		n := int(f)
		if off+n > len(from) || off+n > len(to) {
			return maybe
		}
		res = res.and(key.slice(off, n).inRange(from[off:off+n], to[off:off+n]))
		if res == no {
			return no
		}
		off += (n + 3) &^ 3
	}
	return res
}
