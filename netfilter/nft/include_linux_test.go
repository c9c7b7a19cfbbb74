package nft

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
	"github.com/vpnpass/vpnpass/test/lab"
)

// TestGoldenIncludesAgreeWithNft: every golden include passes `nft -c`, and
// what nft itself builds from the text is, rule for rule, what we build over
// netlink (same canonical form). Otherwise a fw4 reload that renders our
// include would look like drift and be "repaired" forever.
func TestGoldenIncludesAgreeWithNft(t *testing.T) {
	lab.RequireBinaries(t, "nft")
	r := newRig(t, rigConfig{lab: lab.Config{}, kind: netfilter.KindNftables})
	for i, g := range goldenCases {
		t.Run(g.file, func(t *testing.T) {
			path, err := filepath.Abs(filepath.Join("testdata", g.file))
			if err != nil {
				t.Fatal(err)
			}
			if err := r.inRouter(func() error { return checkInclude(path) }); err != nil {
				t.Fatalf("nft -c: %v", err)
			}
			table := fmt.Sprintf("%s_golden%d", OurTable, i)
			wrapper := filepath.Join(t.TempDir(), "wrapper.nft")
			text := fmt.Sprintf("table inet %s {\n\tchain forward {\n\t\ttype filter hook forward priority 0;\n\t\tinclude %q\n\t}\n}\n", table, path)
			if err := os.WriteFile(wrapper, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			r.nft("-f", wrapper)
			defer r.nft("delete", "table", "inet", table)

			s, err := readSnapshot(r.conn.NetNS)
			if err != nil {
				t.Fatal(err)
			}
			tab := &nftwire.Table{Family: nftwire.FamilyINet, Name: table}
			have, _, err := s.readOurs(tab, "forward", true)
			if err != nil {
				t.Fatal(err)
			}
			want := g.config(t).foreignSpecs(g.desired, famInet)
			if len(have) != len(want) {
				t.Fatalf("nft made %d rules, want %d", len(have), len(want))
			}
			for j, w := range want {
				if have[j].key() != wantCanon(nftwire.FamilyINet, w) {
					t.Errorf("rule %d: nft built\n  %s\nwe build\n  %s", j, have[j].key(), wantCanon(nftwire.FamilyINet, w))
				}
				if have[j].text != w.text() {
					t.Errorf("rule %d reads back as %q, want %q", j, have[j].text, w.text())
				}
			}
		})
	}
}

// TestWriteIncludeRefusesInvalidText: text nft rejects is never put in
// place, and an earlier good file stays as it was.
func TestWriteIncludeRefusesInvalidText(t *testing.T) {
	lab.RequireBinaries(t, "nft")
	r := newRig(t, rigConfig{lab: lab.Config{}, kind: netfilter.KindFW4, autoIncludes: true})
	c := r.b.cfg
	good := c.includeText(allAllow)
	if err := r.inRouter(func() error { return c.writeInclude(good) }); err != nil {
		t.Fatalf("good text refused: %v", err)
	}
	for _, bad := range []string{
		"iifname \"br-lan\" udp dport 500 acept\n",
		"}\ntable inet evil { chain x { accept; } }\n",
	} {
		err := r.inRouter(func() error { return c.writeInclude(bad) })
		if err == nil {
			t.Errorf("invalid text accepted: %q", bad)
		}
	}
	got, err := os.ReadFile(c.includeFile())
	if err != nil || string(got) != good {
		t.Errorf("include file changed after refused writes: %q, %v", got, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(c.includeFile()), ".*"))
	if len(leftovers) > 0 {
		t.Errorf("temp files left: %v", leftovers)
	}
}
