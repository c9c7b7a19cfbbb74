// Package layering holds the import rules of docs/architecture.md#rules as
// one table, and the check that the packages keep them. The test builds the
// import graph with go/build for linux and for another GOOS (the _others.go
// files import differently), so it needs no go command and no network.
package layering

import (
	"fmt"
	"sort"
	"strings"
)

// Module is the module path of the repository.
const Module = "github.com/vpnpass/vpnpass"

// Rule is one documented layering rule: no package under From may reach a
// package under Deny (through our own packages when Transitive, else by a
// direct import), unless it is under Allow. Paths are relative to Module;
// "" is every package of ours; "std:log/slog" names a standard package,
// matched exactly.
type Rule struct {
	Name       string
	From       []string
	Deny       []string
	Allow      []string
	Transitive bool
}

// kernel are the packages that talk to the kernel or judge what it says:
// they return errors, never log, and know nothing of the daemon.
var kernel = []string{"netfilter", "conntrack", "helpers", "diagnose", "vpn", "internal"}

// product is every package that can end up in the vpnpass binary.
var product = []string{"agent", "cmd", "conntrack", "diagnose", "helpers", "internal", "netfilter", "openwrt", "vpn"}

// Rules are the layering rules, as docs/architecture.md#rules states them.
var Rules = []Rule{
	{Name: "kernel packages never import the daemon, the OpenWrt edge or main",
		From: kernel, Deny: []string{"agent", "openwrt", "cmd"}, Transitive: true},
	{Name: "kernel packages never log (they return wrapped errors; the agent logs)",
		From: kernel, Deny: []string{"std:log", "std:log/slog"}, Transitive: true},
	{Name: "conntrack does not import netfilter (the shared words live in vpn)",
		From: []string{"conntrack"}, Deny: []string{"netfilter"}, Transitive: true},
	{Name: "vpn is the vocabulary leaf: it imports nothing of ours",
		From: []string{"vpn"}, Deny: []string{""}, Transitive: true},
	{Name: "internal/platform imports nothing of ours",
		From: []string{"internal"}, Deny: []string{""}, Allow: []string{"internal"}, Transitive: true},
	{Name: "main is thin: cmd/vpnpass imports agent/cli only",
		From: []string{"cmd"}, Deny: []string{""}, Allow: []string{"agent/cli"}},
	{Name: "product code never imports the test lab or peers",
		From: product, Deny: []string{"test"}, Transitive: true},
}

// Graph maps an import path of ours to its direct imports (all of them:
// ours, standard and foreign), non-test files only.
type Graph map[string][]string

// Violation is one import path that breaks a rule.
type Violation struct {
	Rule     string
	From, To string
	Via      string // the package of ours that imports To directly
}

func (v Violation) Error() string {
	return fmt.Sprintf("%s: %s reaches %s (imported by %s)", v.Rule, v.From, v.To, v.Via)
}

// Check returns every violation of rules in g, in a stable order.
func Check(g Graph, rules []Rule) []Violation {
	var out []Violation
	for _, pkg := range sortedKeys(g) {
		for _, r := range rules {
			if !underAny(pkg, r.From) {
				continue
			}
			for _, e := range reach(g, pkg, r.Transitive) {
				if e.to != pkg && denied(e.to, r) {
					out = append(out, Violation{Rule: r.Name, From: pkg, To: e.to, Via: e.via})
				}
			}
		}
	}
	return out
}

type edge struct{ via, to string }

// reach lists the imports of pkg, and when transitive those of every package
// of ours it reaches, each with the package that imports it.
func reach(g Graph, pkg string, transitive bool) []edge {
	var out []edge
	seen := map[string]bool{pkg: true}
	queue := []string{pkg}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, imp := range g[p] {
			out = append(out, edge{via: p, to: imp})
			if _, ours := g[imp]; ours && transitive && !seen[imp] {
				seen[imp] = true
				queue = append(queue, imp)
			}
		}
	}
	return out
}

func denied(path string, r Rule) bool {
	return underAny(path, r.Deny) && !underAny(path, r.Allow)
}

// underAny: path is one of the packages the entries name.
func underAny(path string, entries []string) bool {
	for _, e := range entries {
		if std, ok := strings.CutPrefix(e, "std:"); ok {
			if path == std {
				return true
			}
			continue
		}
		full := Module
		if e != "" {
			full += "/" + e
		}
		if path == full || strings.HasPrefix(path, full+"/") {
			return true
		}
	}
	return false
}

func sortedKeys(g Graph) []string {
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Strings(keys) // build tooling, never linked into vpnpass
	return keys
}
