package netfilter

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestWrapIsErrorf(t *testing.T) {
	for _, step := range []string{"list chains of filter", "", "a: b"} {
		got := Wrap(step, fs.ErrNotExist)
		want := fmt.Errorf("%s: %w", step, fs.ErrNotExist)
		if got.Error() != want.Error() {
			t.Errorf("Wrap(%q) = %q, want %q", step, got, want)
		}
		if !errors.Is(got, fs.ErrNotExist) || errors.Unwrap(got) != fs.ErrNotExist {
			t.Errorf("Wrap(%q) does not wrap its error", step)
		}
	}
}
