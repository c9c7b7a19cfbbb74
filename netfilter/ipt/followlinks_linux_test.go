package ipt

import (
	"os"
	"path/filepath"
	"testing"
)

// followLinks ends at the file filepath.EvalSymlinks ends at (same name)
// through relative, absolute and chained links and a linked directory.
func TestFollowLinksMatchesEvalSymlinks(t *testing.T) {
	d := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(d, "usr/sbin"), 0o755))
	must(os.WriteFile(filepath.Join(d, "usr/sbin/xtables-legacy-multi"), nil, 0o755))
	must(os.Symlink("xtables-legacy-multi", filepath.Join(d, "usr/sbin/iptables")))
	must(os.Symlink(filepath.Join(d, "usr/sbin/iptables"), filepath.Join(d, "abs")))
	must(os.Symlink("usr/sbin", filepath.Join(d, "sbin")))
	must(os.Symlink("../sbin/iptables", filepath.Join(d, "usr/up")))
	must(os.Symlink("loop", filepath.Join(d, "loop")))
	for _, p := range []string{"usr/sbin/iptables", "abs", "sbin/iptables", "usr/up", "usr/sbin/xtables-legacy-multi", "none", "loop"} {
		p = filepath.Join(d, p)
		want, werr := filepath.EvalSymlinks(p)
		got, err := followLinks(p)
		if (err == nil) != (werr == nil) || err == nil && filepath.Base(got) != filepath.Base(want) {
			t.Errorf("%s: %s %v, EvalSymlinks %s %v", p, got, err, want, werr)
		}
	}
}
