// Package execsites holds a static check over the product's packages: every
// place that starts a program is listed here with the origin of each of its
// arguments, so no caller-provided string (API params, rpcd stdin, a
// remote reply) can reach a command line unnoticed.
package execsites

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// product are the directories whose code ships in the binary (test/ and
// build/ are tools and fixtures).
var product = []string{"agent", "cmd", "conntrack", "diagnose", "helpers", "internal", "netfilter", "openwrt", "vpn"}

// allowed maps "file: call" to where its arguments come from. A new call
// site, or a changed argument list, fails the test until it is reviewed and
// listed here.
var allowed = map[string]string{
	`helpers/helpers_linux.go: exec.Command(argv[0], argv[1:]...)`:                                               "argv is a constant of modprobeCommands, looked up by module name; an unknown name is refused before",
	`netfilter/ipt/xtables_linux.go: exec.Command(t.path, args...)`:                                              "t.path is iptables/ip6tables(-legacy|-nft) found on PATH; args are table, chain and rule specs the ipt backend renders from the footprint table and device names (UCI/netlink, validated as interface names), plus --wait; one argv element each, no shell",
	`netfilter/nft/include.go: exec.Command(bin, "-c", "-f", wrapper)`:                                           "bin is nft found on PATH; wrapper is the include path from the config plus .check, written by us",
	`agent/wan/openwrt.go: exec.CommandContext(ctx, "ubus", args...)`:                                            "args are \"call\", \"network.interface.\"+name, \"status\": name is a netifd interface from UCI; each is one argv element, no shell",
	`agent/events_ubus.go: exec.CommandContext(ctx, p.path, "send", e.name, e.payload)`:                          "p.path is ubus found on PATH at start; name is vpnpass.<kind> (kind from our own event table); payload is JSON we marshal from the event after the share_hosts filter; one argv element each, no shell",
	`agent/cli/rpcdsession.go: exec.CommandContext(ctx, ubusCommand, "-t", secs, "call", "session", "get", arg)`: "arg is JSON we build from a constant and the session id, which validSID restricts to 32 hex digits (nothing to escape); one argv element, no shell",
}

// starters are the calls that start programs.
var starters = map[string]bool{"exec.Command": true, "exec.CommandContext": true, "syscall.Exec": true,
	"syscall.ForkExec": true, "os.StartProcess": true, "unix.Exec": true}

func TestExecSites(t *testing.T) {
	root, _ := filepath.Abs("../..")
	found := map[string]bool{}
	fset := token.NewFileSet()
	for _, dir := range product {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
					if pkg, ok := sel.X.(*ast.Ident); ok && starters[pkg.Name+"."+sel.Sel.Name] {
						var b bytes.Buffer
						printer.Fprint(&b, fset, call)
						found[filepath.ToSlash(rel)+": "+b.String()] = true
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(found) == 0 {
		t.Fatal("no exec call sites found: the walk is broken")
	}
	var sites []string
	for s := range found {
		sites = append(sites, s)
		if _, ok := allowed[s]; !ok {
			t.Errorf("unreviewed program start %s: trace every argument; none may come from a caller, then list it", s)
		}
	}
	for s := range allowed {
		if !found[s] {
			t.Errorf("listed call site gone or changed: %s", s)
		}
	}
	sort.Strings(sites)
	t.Logf("%d call sites:\n%s", len(sites), strings.Join(sites, "\n"))
}
