package uci

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever parses renders
// to text that parses back to the same tree and renders identically.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.uci")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		tree, err := Parse(src)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		canon := Render(tree)
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("rendered output does not parse: %v\ninput %q\noutput %q", err, src, canon)
		}
		if !sameTree(tree, again) {
			t.Fatalf("round trip changed the tree\ninput %q\noutput %q", src, canon)
		}
		if r2 := Render(again); !bytes.Equal(r2, canon) {
			t.Fatalf("render not idempotent\n%q\n%q", canon, r2)
		}
	})
}
