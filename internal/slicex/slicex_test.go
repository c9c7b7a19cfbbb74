package slicex

import (
	"slices"
	"testing"
)

func TestStringsIsAppend(t *testing.T) {
	for _, tc := range []struct {
		name string
		s, v []string
	}{
		{"nil and one", nil, []string{"a"}},
		{"nil and none", nil, nil},
		{"grow", []string{"a", "b"}, []string{"c", "d", "e"}},
		{"within capacity", make([]string, 1, 4), []string{"x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := append(slices.Clip(slices.Clone(tc.s)), tc.v...)
			got := tc.s
			Strings(&got, tc.v...)
			if !slices.Equal(got, want) || (got == nil) != (want == nil) {
				t.Fatalf("Strings(%q, %q) = %q, want %q", tc.s, tc.v, got, want)
			}
		})
	}
}

func TestStringsSharesBackingArray(t *testing.T) {
	s := make([]string, 1, 4)
	slot := &s[:2][1]
	Strings(&s, "x")
	if &s[1] != slot || cap(s) != 4 || s[1] != "x" {
		t.Fatalf("Strings within capacity did not reuse the array: %v (cap %d)", s, cap(s))
	}
}
