package lines

import (
	"bufio"
	"slices"
	"strings"
	"testing"
)

func scan(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// Each yields the lines bufio.Scanner yields.
func TestEachMatchesScanner(t *testing.T) {
	for _, in := range []string{"", "a", "a\n", "a\nb", "a\r\nb\r\n", "\n\n", "a\r", "a\rb\n", "\r\n", " x \n\ty"} {
		var got []string
		if err := Each(strings.NewReader(in), func(l string) { got = append(got, l) }); err != nil {
			t.Fatal(err)
		}
		if want := scan(in); !slices.Equal(got, want) {
			t.Errorf("%q: %q, Scanner %q", in, got, want)
		}
	}
}

func FuzzEach(f *testing.F) {
	f.Add("a\r\nb\n\nc\r")
	f.Fuzz(func(t *testing.T, in string) {
		var got []string
		_ = Each(strings.NewReader(in), func(l string) { got = append(got, l) })
		if want := scan(in); len(in) < 60000 && !slices.Equal(got, want) {
			t.Fatalf("%q: %q, Scanner %q", in, got, want)
		}
	})
}
