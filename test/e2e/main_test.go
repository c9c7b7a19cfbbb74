// Package e2e runs the vpnpass binary inside lab routers, as a user would run
// it on a router, and checks what it says and does against the real kernel.
package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/config"
)

// vpnpassBin is the binary under test, built once per run.
var vpnpassBin string

// binDir holds the binaries built for this run.
var binDir string

// variants are other builds of vpnpass, each built on first use only.
var variants struct {
	mu    sync.Mutex
	built map[string]string
}

// floodBinary returns vpnpass built with the vpnpass_testhooks tag (the
// event flood of agent/testhooks_flood.go).
func floodBinary(t testing.TB) string {
	t.Helper()
	return variant(t, "vpnpass-testhooks", nil, "-tags", "vpnpass_testhooks")
}

// releaseBinary returns vpnpass built as the packages build it
// (build/cross.sh: static, no cgo, stripped, -gcflags=all=-l, with the
// OpenWrt SDK's Go 1.23 through GOTOOLCHAIN, or $CROSS_GO_TOOLCHAIN as
// test/bench-poll.sh takes it), for measurements of the shipped program:
// the installed Go and inlining give another binary (more file pages) and
// another runtime. With testhooks it also has the flood hook.
func releaseBinary(t testing.TB, testhooks bool) string {
	t.Helper()
	args := []string{"-trimpath", "-gcflags=all=-l", "-ldflags", "-s -w"}
	name := "vpnpass-release"
	if testhooks {
		args = append(args, "-tags", "vpnpass_testhooks")
		name += "-testhooks"
	}
	tc := os.Getenv("CROSS_GO_TOOLCHAIN")
	if tc == "" {
		tc = "go1.23.12"
	}
	return variant(t, name, []string{"CGO_ENABLED=0", "GOTOOLCHAIN=" + tc}, args...)
}

// variant builds cmd/vpnpass once per run with extra environment and flags.
func variant(t testing.TB, name string, env []string, flags ...string) string {
	t.Helper()
	variants.mu.Lock()
	defer variants.mu.Unlock()
	if p, ok := variants.built[name]; ok {
		return p
	}
	path := filepath.Join(binDir, name)
	args := append(append([]string{"build"}, flags...), "-o", path, "github.com/vpnpass/vpnpass/cmd/vpnpass")
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, out)
	}
	if variants.built == nil {
		variants.built = map[string]string{}
	}
	variants.built[name] = path
	return path
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vpnpass-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	vpnpassBin = filepath.Join(dir, "vpnpass")
	build := exec.Command("go", "build", "-o", vpnpassBin, "github.com/vpnpass/vpnpass/cmd/vpnpass")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build vpnpass:", err)
		os.Exit(1)
	}
	parallelByDefault()
	before := hostFlashCopy()
	code := m.Run()
	os.RemoveAll(dir)
	if after := hostFlashCopy(); after != before {
		// The agent's default flash copy of the history is the host's
		// /etc/vpnpass: a test agent must keep it in its temp dir.
		fmt.Fprintf(os.Stderr, "a test wrote the host's %s (was %q, now %q): give its agent option history_persist_path\n",
			hostFlashPath, before, after)
		code = 1
	}
	os.Exit(code)
}

// hostFlashPath is where an agent with the default config keeps its flash
// copy: on this host, /etc.
var hostFlashPath = config.Defaults().HistoryPersistPath

// hostFlashCopy names the state of the host's flash copy: absent, or its
// size and modification time.
func hostFlashCopy() string {
	fi, err := os.Stat(hostFlashPath)
	if err != nil {
		return "absent"
	}
	return fmt.Sprintf("%d bytes, %s", fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
}

// parallelByDefault lets up to 8 parallel tests run at once unless -parallel
// was given: the doctor tests spend most of their ~35 s waiting for a
// session to fall quiet, so GOMAXPROCS (the default) would serialise idle
// waits on a small machine.
func parallelByDefault() {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", "8")
	}
}
