// Package sortx sorts by index with less and swap functions: sort.Slice and
// sort.SliceStable without their reflection.
//
// Why: sort.Slice builds its swap with internal/reflectlite.Swapper and runs
// a second, func-based copy of sort's algorithms (pdqsort_func, stable_func
// and the rest): ~11 KB of mips code next to the sort.Interface copy that
// sort.Sort(sort.StringSlice(…)) links anyway. Sort and Stable hand that
// copy an adapter, so each call site only adds its swap closure. They run
// the very algorithms sort.Slice and sort.SliceStable run, so the resulting
// order is the same, ties included.
package sortx

import "sort"

type byIndex struct {
	n    int
	less func(i, j int) bool
	swap func(i, j int)
}

func (b byIndex) Len() int           { return b.n }
func (b byIndex) Less(i, j int) bool { return b.less(i, j) }
func (b byIndex) Swap(i, j int)      { b.swap(i, j) }

// Sort is sort.Slice for n elements (not stable).
func Sort(n int, less func(i, j int) bool, swap func(i, j int)) {
	sort.Sort(byIndex{n, less, swap})
}

// Stable is sort.SliceStable for n elements.
func Stable(n int, less func(i, j int) bool, swap func(i, j int)) {
	sort.Stable(byIndex{n, less, swap})
}
