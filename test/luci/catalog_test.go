package luci

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/build/po2lmo/lmo"
)

// catalogSources are the files po/templates/vpnpass.pot is scanned from,
// as the repository root sees them (the template's "#:" references): every
// script of the app, by path, then the menu (build/i18n's order).
func catalogSources(t *testing.T) []string {
	t.Helper()
	var out []string
	var walk func(dir string)
	walk = func(dir string) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			p := dir + "/" + e.Name()
			if e.IsDir() {
				walk(p)
			} else if strings.HasSuffix(p, ".js") {
				out = append(out, p)
			}
		}
	}
	walk("openwrt/luci-app-vpnpass/htdocs")
	return append(out, "openwrt/luci-app-vpnpass/root/usr/share/luci/menu.d/luci-app-vpnpass.json")
}

// TestTemplateUpToDate: the .pot is what scanning the scripts and menu gives
// now. Regenerate it (and the view's generated texts) with `make i18n`.
func TestTemplateUpToDate(t *testing.T) {
	wd, _ := os.Getwd()
	if err := os.Chdir(repoRoot); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	sources := catalogSources(t)
	srcs, err := lmo.Scan(sources)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("openwrt/luci-app-vpnpass/po/templates/vpnpass.pot")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != lmo.WritePOT(srcs) {
		t.Errorf("po/templates/vpnpass.pot is stale: regenerate it with po2lmo -pot %s", strings.Join(sources, " "))
	}
}

var placeholder = regexp.MustCompile(`\{\w+\}|%[sd]`)

// TestJapaneseComplete: every template message has a Japanese text with
// the same placeholders, nothing stale, and it compiles to an .lmo.
func TestJapaneseComplete(t *testing.T) {
	pot := readCatalog(t, filepath.Join(appDir, "po", "templates", "vpnpass.pot"), true)
	ja := readCatalog(t, filepath.Join(appDir, "po", "ja", "vpnpass.po"), false)
	for id := range pot {
		tr, ok := ja[id]
		if !ok || tr == "" {
			t.Errorf("no Japanese for %q", id)
			continue
		}
		if a, b := placeholders(id), placeholders(tr); a != b {
			t.Errorf("%q: placeholders %s in English, %s in Japanese %q", id, a, b, tr)
		}
	}
	for id := range ja {
		if _, ok := pot[id]; !ok {
			t.Errorf("stale Japanese entry %q", id)
		}
	}
	if _, err := compileCatalog("ja"); err != nil {
		t.Fatal(err)
	}
}

func placeholders(s string) string {
	p := placeholder.FindAllString(s, -1)
	sort.Strings(p)
	return strings.Join(p, " ")
}

// readCatalog returns msgid -> msgstr; a template's msgstrs are empty, so
// they are filled in to keep ParsePO from dropping them.
func readCatalog(t *testing.T, path string, template bool) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if template {
		text = strings.ReplaceAll(text, "msgstr \"\"\n", "msgstr \"-\"\n")
	}
	entries, _, err := lmo.ParsePO(strings.NewReader(text))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]string{}
	for _, e := range entries {
		out[e.Key] = e.Value
	}
	return out
}
