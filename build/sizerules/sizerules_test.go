package sizerules

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// release is the environment of the release build (build/cross.sh): the
// router case, where every byte counts.
var release = []string{"GOOS=linux", "GOARCH=mips", "GOMIPS=softfloat", "CGO_ENABLED=0"}

const mainPkg = "github.com/vpnpass/vpnpass/cmd/vpnpass"

func goCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	c := exec.Command("go", args...)
	c.Env = append(os.Environ(), release...)
	return c
}

func TestReleaseDependencies(t *testing.T) {
	out, err := goCmd(t, "list", "-deps", mainPkg).Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, v := range CheckPackages(strings.Fields(string(out))) {
		t.Error(v.Error())
	}
}

func TestReleaseSymbols(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the mips binary")
	}
	// Unstripped (the symbol table is what is read), flags otherwise as released.
	vs := symbolViolations(t, "", "-trimpath", "-gcflags=all=-l", mainPkg)
	for _, v := range vs {
		t.Error(v.Error())
	}
}

// The rules must catch what they claim to: a program that links each
// forbidden thing breaks exactly its rule.
func TestRulesCatchViolations(t *testing.T) {
	deps := []string{"fmt", "flag", "crypto/sha256", "net/http", "encoding/xml", "hash/crc32", "math/big", "encoding/base64"}
	got := map[string]bool{}
	for _, v := range CheckPackages(deps) {
		got[v.Package] = true
	}
	for _, want := range []string{"flag", "crypto/", "net/http", "encoding/xml", "hash/crc32", "math/big", "encoding/base64"} {
		if !got[want] {
			t.Errorf("dependency %q not caught", want)
		}
	}
	if vs := CheckPackages([]string{"fmt", "cryptography", "net", "sort"}); len(vs) != 0 {
		t.Errorf("false positives: %v", vs)
	}
}

func TestSymbolRuleCatchesResolver(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a mips program")
	}
	dir := t.TempDir()
	src := "package main\nimport (\"net\";\"os\";\"strings\")\n" +
		"func main(){ c, _ := net.Dial(\"udp\", os.Args[1]); _ = c; i, _ := net.InterfaceByName(os.Args[2]); _ = i\n" +
		"os.Stdout.WriteString(strings.NewReplacer(\"a\",\"b\").Replace(os.Args[0])) }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module bad\ngo 1.23\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	vs := symbolViolations(t, dir, ".")
	got := map[string]bool{}
	for _, v := range vs {
		got[v.Symbol] = true
	}
	for _, want := range []string{"net.(*Resolver).", "strings.(*Replacer).", "net.(*netFD).", "net.interfaceTable"} {
		if !got[want] {
			t.Errorf("%s not caught: %v", want, vs)
		}
	}
}

// The package rules catch a program that imports a forbidden library
// (testdata/libcalls imports ti-mo/conntrack, and through it ti-mo/netfilter).
func TestPackageRulesCatchLibraryImports(t *testing.T) {
	c := goCmd(t, "list", "-deps", "./testdata/libcalls")
	out, err := c.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	got := map[string]string{}
	for _, v := range CheckPackages(strings.Fields(string(out))) {
		got[v.Package] = v.Found
	}
	if f := got["github.com/ti-mo/"]; !strings.HasPrefix(f, "github.com/ti-mo/") {
		t.Errorf("github.com/ti-mo/ not caught: %v", got)
	}
	if vs := CheckPackages([]string{"github.com/mdlayher/netlink", "github.com/ti-mox"}); len(vs) != 0 {
		t.Errorf("false positives: %v", vs)
	}
}

// The library rules catch the calls that link what they forbid
// (testdata/libcalls calls each).
func TestSymbolRulesCatchLibraryCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a mips program")
	}
	got := map[string]bool{}
	for _, v := range symbolViolations(t, "", "-trimpath", "-gcflags=all=-l", "./testdata/libcalls") {
		got[v.Symbol] = true
	}
	for _, want := range []string{"github.com/ti-mo/conntrack.Flow.marshal", "github.com/google/nftables.(*Monitor).",
		"github.com/google/nftables.setsFromMsg", "github.com/google/nftables.objFromMsg", "github.com/google/nftables.elementsFromMsg",
		"github.com/google/nftables/expr.(*Cmp).marshal", "github.com/google/nftables.(*Conn).newRule", "github.com/google/nftables.(*Conn).AddSet",
		"github.com/google/nftables.(*Set).makeElemList", "github.com/google/nftables.(*Conn).AddChain", "github.com/google/nftables.(*Conn).AddObj",
		"github.com/google/nftables.(*Conn).Flush",
		"github.com/google/nftables.ruleFromMsg", "github.com/google/nftables.chainFromMsg", "github.com/google/nftables.tableFromMsg",
		"github.com/google/nftables.init"} {
		if !got[want] {
			t.Errorf("%s not caught", want)
		}
	}
}

// The symbol rules for time's parser, x/net/bpf, errors.As, sort.Slice,
// filepath.Match, StructTag.Get, bufio and strconv.ParseFloat catch a program of the
// module (testdata/forbidden) that links them.
func TestSymbolRulesCatchModuleCode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a mips program")
	}
	got := map[string]bool{}
	for _, v := range symbolViolations(t, "testdata/forbidden", ".") {
		got[v.Symbol] = true
	}
	for _, want := range []string{"time.parse", "time.Parse", "golang.org/x/net/bpf.", "errors.As",
		"internal/reflectlite.Swapper", "path/filepath.Match", "reflect.StructTag.", "bufio.",
		"strconv.ParseFloat"} {
		if !got[want] {
			t.Errorf("%s not caught: %v", want, got)
		}
	}
}

// symbolViolations builds args (the last is the package) in dir for the
// release target and checks the binary's symbol table.
func symbolViolations(t *testing.T, dir string, args ...string) []Violation {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bin")
	c := goCmd(t, append([]string{"build", "-o", bin}, args...)...)
	c.Dir = dir
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vs, err := CheckSymbols(f)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}
