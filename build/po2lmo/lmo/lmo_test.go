package lmo

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSFHMatchesLuCI checks the hash against values computed by LuCI's own
// C and JS implementations (testdata/sfh_vectors.tsv says how).
func TestSFHMatchesLuCI(t *testing.T) {
	f, err := os.Open("testdata/sfh_vectors.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		want, key, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("bad vector line %q", line)
		}
		key = strings.NewReplacer(`\1`, "\x01", `\2`, "\x02").Replace(key)
		if got := fmt.Sprintf("%08x", SFH([]byte(key))); got != want {
			t.Errorf("sfh(%q) = %s, LuCI says %s", key, got, want)
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d vectors read", n)
	}
}

func TestParsePOAndRoundTrip(t *testing.T) {
	f, err := os.Open("testdata/small.po")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, plural, err := ParsePO(f)
	if err != nil {
		t.Fatal(err)
	}
	if plural != "nplurals=1; plural=0;" {
		t.Errorf("plural = %q", plural)
	}
	b, err := WriteLMO(entries, plural)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ReadLMO(b)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ msgid, ctx, want string }{
		{"Status", "", "状態"},
		{"  Status\n", "", "状態"}, // LuCI trims and collapses blanks before hashing
		{`Say "allow" to let it pass`, "", `通すには「"allow"」と指定します`},
		{"Block", "", "遮断"},
		{"Block", "passthrough mode", "ブロック"},
		{"Long message continued on the next line", "", "次の行に続くメッセージ"},
		{"Untranslated", "", "Untranslated"},
		{"Same", "", "Same"},
		{"Not in the catalog", "", "Not in the catalog"},
	}
	for _, c := range cases {
		if got := Lookup(tr, c.msgid, c.ctx); got != c.want {
			t.Errorf("Lookup(%q, %q) = %q, want %q", c.msgid, c.ctx, got, c.want)
		}
	}
	if got := tr[fmt.Sprintf("%08x", SFH([]byte("%d event\x020")))]; got != "%d 件のイベント" {
		t.Errorf("plural form 0 = %q", got)
	}
	if tr["00000000"] != plural {
		t.Errorf("plural header slot = %q", tr["00000000"])
	}
	// Untranslated and identical entries are left out, as po2lmo does:
	// plural header + 6 messages.
	if len(tr) != 7 {
		t.Errorf("catalog has %d entries, want 7: %v", len(tr), tr)
	}
}

// TestLayout checks the archive byte by byte against lmo.h: 4-byte padded
// values, a big-endian index sorted by key, and the index offset last.
func TestLayout(t *testing.T) {
	b, err := WriteLMO([]Entry{{Key: "abc", Value: "xyz12"}, {Key: "a", Value: "b"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	// values: "xyz12"+3 pad, "b"+3 pad = 12 bytes; 2 index entries; offset word.
	if len(b) != 12+2*16+4 {
		t.Fatalf("size %d", len(b))
	}
	if got := binary.BigEndian.Uint32(b[len(b)-4:]); got != 12 {
		t.Fatalf("index offset %d, want 12", got)
	}
	k0, k1 := binary.BigEndian.Uint32(b[12:]), binary.BigEndian.Uint32(b[28:])
	if k0 >= k1 || k0 != 0x115ea782 || k1 != 0xd2be198a {
		t.Errorf("index keys %08x %08x, want sorted a=115ea782, abc=d2be198a", k0, k1)
	}
	if !bytes.Equal(b[8:12], []byte{'b', 0, 0, 0}) {
		t.Errorf("second value not padded: %q", b[8:12])
	}
	if off, n := binary.BigEndian.Uint32(b[28+8:]), binary.BigEndian.Uint32(b[28+12:]); off != 0 || n != 5 {
		t.Errorf("abc entry offset %d length %d, want 0 5", off, n)
	}
}

func TestScanRefusesUntrimmed(t *testing.T) {
	js := filepath.Join(t.TempDir(), "v.js")
	if err := os.WriteFile(js, []byte("_(' and ')"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Scan([]string{js}); err == nil || !strings.Contains(err.Error(), "blanks") {
		t.Errorf("Scan accepted a msgid LuCI can never look up: %v", err)
	}
}

func TestEmptyCatalogRefused(t *testing.T) {
	if _, err := WriteLMO([]Entry{{Key: "Same", Value: "Same"}}, ""); err == nil {
		t.Error("an archive with nothing translated was written")
	}
}

func TestScanAndPOT(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "v.js")
	src := "E('h2', _('Status'));\nx = _(\"It's %s\").format(y) + _('Say \\'hi\\'');\n" +
		"N_(n, '%d event', '%d events'); foo_('no'); a._('no');\n"
	if err := os.WriteFile(js, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	menu := filepath.Join(dir, "m.json")
	if err := os.WriteFile(menu, []byte(`{"admin/services/x":{"title":"VPN Passthrough"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	srcs, err := Scan([]string{js, menu})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range srcs {
		got = append(got, s.MsgID)
	}
	want := []string{"%d event", "%d events", "It's %s", "Say 'hi'", "Status", "VPN Passthrough"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("scanned %q, want %q", got, want)
	}
	pot := WritePOT(srcs)
	entries, _, err := ParsePO(strings.NewReader(strings.ReplaceAll(pot, "msgstr \"\"\n", "msgstr \"x\"\n")))
	if err != nil {
		t.Fatalf("template does not parse: %v\n%s", err, pot)
	}
	if len(entries) != len(want) || entries[2].Key != "It's %s" {
		t.Errorf("template round trip: %+v", entries)
	}
}
