package layering

import (
	"errors"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// contexts are the builds whose imports must keep the rules: the router's
// (linux), a test build with its hooks, and an _others.go build.
var contexts = []struct {
	name, goos string
	tags       []string
}{
	{"linux", "linux", nil},
	{"linux+testhooks", "linux", []string{"vpnpass_testhooks"}},
	{"darwin", "darwin", nil},
}

// TestLayering fails when a package of the repository breaks a rule of
// docs/architecture.md#rules.
func TestLayering(t *testing.T) {
	root := moduleRoot(t)
	for _, c := range contexts {
		t.Run(c.name, func(t *testing.T) {
			ctx := build.Default
			ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled, ctx.BuildTags = c.goos, "amd64", false, c.tags
			g := graph(t, &ctx, root)
			if len(g) < 20 {
				t.Fatalf("only %d packages found under %s: the walk is broken", len(g), root)
			}
			for _, v := range Check(g, Rules) {
				t.Error(v.Error())
			}
		})
	}
}

// TestCheckFindsViolations: every rule catches the import it forbids, and
// lets pass what it allows.
func TestCheckFindsViolations(t *testing.T) {
	m := func(p string) string { return Module + "/" + p }
	tests := []struct {
		name  string
		graph Graph
		want  int
	}{
		{"clean", Graph{m("conntrack"): {m("vpn"), "fmt"}, m("vpn"): {"fmt"}, m("cmd/vpnpass"): {m("agent/cli")}, m("agent/cli"): {m("agent")}, m("agent"): {"log/slog"}}, 0},
		{"kernel imports agent", Graph{m("helpers"): {m("agent/config")}, m("agent/config"): nil}, 1},
		{"kernel reaches agent through ours", Graph{m("diagnose"): {m("netfilter")}, m("netfilter"): {m("openwrt/uci")}, m("openwrt/uci"): nil}, 2},
		{"kernel logs", Graph{m("netfilter/nft"): {"log/slog"}}, 1},
		{"conntrack reaches netfilter", Graph{m("conntrack"): {m("netfilter/nftwire")}, m("netfilter/nftwire"): nil}, 1},
		{"vpn imports ours", Graph{m("vpn"): {m("internal/platform")}, m("internal/platform"): nil}, 1},
		{"fat main", Graph{m("cmd/vpnpass"): {m("agent/cli"), m("agent")}, m("agent/cli"): nil, m("agent"): nil}, 1},
		{"product imports the lab", Graph{m("agent/wan"): {m("test/lab")}, m("test/lab"): nil}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Check(tt.graph, Rules); len(got) != tt.want {
				t.Errorf("%d violations, want %d: %v", len(got), tt.want, got)
			}
		})
	}
}

// graph imports every package directory under root (testdata, hidden and
// empty directories apart) with ctx, non-test files only.
func graph(t *testing.T, ctx *build.Context, root string) Graph {
	t.Helper()
	g := Graph{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		name := d.Name()
		if path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		pkg, err := ctx.ImportDir(path, 0)
		var none *build.NoGoError
		if errors.As(err, &none) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		g[Module+"/"+filepath.ToSlash(rel)] = pkg.Imports
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// moduleRoot is the directory of go.mod above this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			if !strings.HasPrefix(string(b), "module "+Module+"\n") {
				t.Fatalf("%s/go.mod is not module %s", dir, Module)
			}
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}
