package nft

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// removeTemps deletes what an interrupted writeInclude leaves (temp files
// and their .check wrappers) and nothing else in the directory.
func TestRemoveTemps(t *testing.T) {
	c := config{root: t.TempDir()}
	dir := filepath.Dir(c.includeFile())
	if err := c.removeTemps(); err != nil {
		t.Fatalf("missing directory: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	temps := []string{".fw4-forward-123.nft", ".fw4-forward-9.nft.check"}
	keep := []string{filepath.Base(c.includeFile()), "fw4-forward-1.nft", ".fw4-forward-1.txt", "other.nft"}
	for _, n := range append(append([]string(nil), temps...), keep...) {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.removeTemps(); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(dir)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	sort.Strings(keep)
	if strings.Join(names, " ") != strings.Join(keep, " ") {
		t.Errorf("left %q, want %q", names, keep)
	}
}
