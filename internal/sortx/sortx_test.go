package sortx

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

type pair struct{ key, id int }

// Sort and Stable leave exactly the order sort.Slice and sort.SliceStable
// leave, ties included, on inputs of every size class pdqsort treats apart.
func TestSameOrderAsSortSlice(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 5, 12, 13, 50, 51, 200, 1000} {
		for _, keys := range []int{1, 3, n + 1} {
			in := make([]pair, n)
			for i := range in {
				in[i] = pair{r.IntN(keys), i}
			}
			a, b := slices.Clone(in), slices.Clone(in)
			sort.Slice(a, func(i, j int) bool { return a[i].key < a[j].key })
			Sort(len(b), func(i, j int) bool { return b[i].key < b[j].key }, func(i, j int) { b[i], b[j] = b[j], b[i] })
			if !slices.Equal(a, b) {
				t.Errorf("Sort n=%d keys=%d differs from sort.Slice", n, keys)
			}
			a, b = slices.Clone(in), slices.Clone(in)
			sort.SliceStable(a, func(i, j int) bool { return a[i].key < a[j].key })
			Stable(len(b), func(i, j int) bool { return b[i].key < b[j].key }, func(i, j int) { b[i], b[j] = b[j], b[i] })
			if !slices.Equal(a, b) {
				t.Errorf("Stable n=%d keys=%d differs from sort.SliceStable", n, keys)
			}
		}
	}
}
