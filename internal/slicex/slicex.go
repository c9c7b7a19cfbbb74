// Package slicex appends through a call.
//
// Why: each `s = append(s, v)` is compiled inline: the capacity check, a
// growslice call and, for a slice in a heap object, write barriers around
// the stores: ~150–190 B of mips code per site, against ~30 B for a call.
// Only element types appended at many sites get a function here: a generic
// one would be instantiated per shape, each with its pclntab entry and long
// shape name, which costs more than a few sites save.
// The result is exactly append's.
package slicex

// Strings appends v to *s.
func Strings(s *[]string, v ...string) { *s = append(*s, v...) }

// Errors appends v to *s (errors gathered to be joined).
func Errors(s *[]error, v ...error) { *s = append(*s, v...) }
