package main

import (
	"os"
	"strings"
	"testing"
)

// TestGeneratedFilesAreCurrent fails when the LuCI view's generated region
// or the .pot is stale: run `make i18n` after changing vpn/, the catalog,
// the view or the menu.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	if err := os.Chdir("../.."); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(view)
	if err != nil {
		t.Fatal(err)
	}
	v, err := generate(old)
	if err != nil {
		t.Fatal(err)
	}
	if string(v) != string(old) {
		t.Errorf("%s is stale: run `make i18n`", view)
	}
	want, err := potText()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(pot)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is stale: run `make i18n`", pot)
	}
}

// TestRegionQuotesForJavaScript: texts with quotes and backslashes survive
// as JavaScript string literals the .pot scanner reads back.
func TestRegionQuotesForJavaScript(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`it's`, `'it\'s'`},
		{`a "b"`, `'a "b"'`},
		{`c:\d`, `'c:\\d'`},
	} {
		if got := js(tc.in); got != tc.want {
			t.Errorf("js(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if r := region(); !strings.Contains(r, "const FINDING_TEXT = {") || !strings.Contains(r, "'wireguard-unanswered': [") {
		t.Errorf("region lacks the finding texts:\n%s", r)
	}
}
