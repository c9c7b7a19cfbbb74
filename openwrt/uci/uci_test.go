package uci

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

type errJSON struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// TestGolden parses every testdata/*.uci: the parse tree (or the error) must
// match the .json golden, the canonical rendering the .canon golden, and the
// rendering must parse back to the same tree.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.uci")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, in := range inputs {
		base := strings.TrimSuffix(filepath.Base(in), ".uci")
		t.Run(base, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			f, perr := Parse(src)
			if strings.HasPrefix(base, "err_") {
				var e *Error
				if !errors.As(perr, &e) {
					t.Fatalf("want *Error, got %v", perr)
				}
				golden(t, base+".json", mustJSON(t, map[string]errJSON{"error": {e.Line, e.Msg}}))
				return
			}
			if perr != nil {
				t.Fatal(perr)
			}
			golden(t, base+".json", mustJSON(t, f))
			canon := Render(f)
			golden(t, base+".canon", canon)
			assertStable(t, f, canon)
		})
	}
}

func assertStable(t *testing.T, f *File, canon []byte) {
	t.Helper()
	f2, err := Parse(canon)
	if err != nil {
		t.Fatalf("canonical output does not parse: %v\n%s", err, canon)
	}
	if !sameTree(f, f2) {
		t.Fatalf("re-parse differs:\n%s\nvs\n%s", mustJSON(t, f), mustJSON(t, f2))
	}
	if again := Render(f2); !bytes.Equal(again, canon) {
		t.Fatalf("render not idempotent:\n%q\nvs\n%q", canon, again)
	}
}

// sameTree compares two files ignoring line numbers.
func sameTree(a, b *File) bool {
	return reflect.DeepEqual(stripLines(a), stripLines(b))
}

func stripLines(f *File) *File {
	out := &File{Package: f.Package}
	for _, s := range f.Sections {
		ns := &Section{Type: s.Type, Name: s.Name}
		for _, o := range s.Options {
			ns.Options = append(ns.Options, &Option{Name: o.Name, List: o.List, Values: o.Values})
		}
		out.Sections = append(out.Sections, ns)
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestParseEdgeCases(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // value of option v in the only section, or "ERR:<line>"
	}{
		{"nul byte", "config a b\n\toption v 'x\x00y'\n", "ERR:2"},
		{"trailing backslash at EOF", "config a b\n\toption v abc\\", "abc"},
		{"no final newline", "config a b\n\toption v 'x'", "x"},
		{"crlf continuation", "config a b\n\toption v \"a\\\r\nb\"\r\n", "ab"},
		{"escaped quote unquoted", "config a b\n\toption v \\'x\n", "'x"},
		{"semicolon after quoted", "config a b; option v 'x'; option w y\n", "x"},
		{"continuation then space ends word", "config a b\n\toption v x\\\n y\n", "ERR:2"},
		{"keyword needs blank", "config a b\n\toption\n", "ERR:2"},
		{"empty list value keeps item", "config a b\n\tlist v\n", ""},
		{"unterminated line reported at quote", "config a b\n\n\toption v 'x\n\n", "ERR:3"},
		{"vertical tab is space in values", "config a b\n\toption v x\v\n", "x"},
		{"hash after keyword is a comment word", "config a b #c\n\toption v 1\n", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.src))
			if strings.HasPrefix(tt.want, "ERR:") {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("want error, got %v", err)
				}
				if got := "ERR:" + itoa(e.Line); got != tt.want {
					t.Fatalf("error %v: got %s want %s", e, got, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Sections) != 1 {
				t.Fatalf("want one section, got %d", len(f.Sections))
			}
			got, ok := f.Sections[0].Get("v")
			if !ok || got != tt.want {
				t.Fatalf("v = %q (%v), want %q", got, ok, tt.want)
			}
		})
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestParseFileNamesPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vpnpass")
	if err := os.WriteFile(path, []byte("config a b\n\toption x y z\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ParseFile(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":2: too many arguments") {
		t.Fatalf("got %v", err)
	}
}

func TestEditHelpers(t *testing.T) {
	f, err := Parse([]byte("config passthrough 'pptp'\n\toption mode 'allow'\n\toption x 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := f.Section("pptp")
	s.Set("mode", "block")
	s.AddList("x", "2")
	s.Set("new", "v")
	f.AddSection("passthrough", "l2tp").Set("mode", "default")
	want := "\nconfig passthrough 'pptp'\n\toption mode 'block'\n\tlist x '1'\n\tlist x '2'\n\toption new 'v'\n" +
		"\nconfig passthrough 'l2tp'\n\toption mode 'default'\n\n"
	if got := string(Render(f)); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	s.Set("new", "")
	if s.Option("new") != nil || s.Delete("new") {
		t.Fatal("empty Set must delete")
	}
	if len(f.SectionsOfType("passthrough")) != 2 || f.Section("nope") != nil {
		t.Fatal("lookups")
	}
}

func TestValidators(t *testing.T) {
	cases := []struct {
		s                 string
		name, pkg, typeOK bool
	}{
		{"main", true, true, true},
		{"br_lan", true, true, true},
		{"br-lan", false, true, true},
		{"a'b", false, false, true},
		{"two words", false, false, false},
		{"", false, false, false},
		{"é", false, false, false},
	}
	for _, c := range cases {
		if ValidName(c.s) != c.name || ValidPackage(c.s) != c.pkg || ValidType(c.s) != c.typeOK {
			t.Errorf("%q: name=%v pkg=%v type=%v", c.s, ValidName(c.s), ValidPackage(c.s), ValidType(c.s))
		}
	}
}
