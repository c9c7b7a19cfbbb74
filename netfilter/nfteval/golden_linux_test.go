package nfteval

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// pathText renders an explanation for a golden file. Handles are left out
// (they depend on the nft version that loaded the ruleset); checkHandles
// verifies them against the ruleset instead.
func pathText(e netfilter.Explanation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "verdict: %s\n", e.Verdict)
	if d := e.DecidedBy; d != nil {
		fmt.Fprintf(&b, "decided_by: %s %s/%s", d.Backend, d.Table, d.Chain)
		if d.Policy != "" {
			fmt.Fprintf(&b, " policy %s", d.Policy)
		}
		if d.Comment != "" {
			fmt.Fprintf(&b, " # %s", d.Comment)
		}
		b.WriteString("\n")
	}
	b.WriteString("path:\n")
	for _, s := range e.Path {
		fmt.Fprintf(&b, "  %s/%s %s: %s", s.Table, s.Chain, s.Effect, s.Rule)
		if s.Comment != "" {
			fmt.Fprintf(&b, " # %s", s.Comment)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

// checkHandles verifies that every step and the decider name a real rule:
// the handle exists in that chain, with that summary and comment.
func checkHandles(t *testing.T, rs *Ruleset, e netfilter.Explanation) {
	t.Helper()
	find := func(table, chain string, handle uint64) *Rule {
		for _, tb := range rs.Tables {
			if tb.Name != table || tb.Chain(chain) == nil {
				continue
			}
			for _, r := range tb.Chain(chain).Rules {
				if r.Handle == handle {
					return r
				}
			}
		}
		return nil
	}
	for _, s := range e.Path {
		if s.Handle == 0 {
			continue
		}
		r := find(s.Table, s.Chain, s.Handle)
		if r == nil || !strings.HasPrefix(s.Rule, Summary(r)) || r.Comment != s.Comment {
			t.Errorf("step %+v names no rule of %s/%s with that summary and comment", s, s.Table, s.Chain)
		}
	}
	if d := e.DecidedBy; d != nil && d.Policy == "" {
		if r := find(d.Table, d.Chain, d.Handle); r == nil || r.Comment != d.Comment {
			t.Errorf("decided_by %+v names no such rule", d)
		}
	}
}
