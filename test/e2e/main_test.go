// Package e2e runs the vpnpass binary inside lab routers, as a user would run
// it on a router, and checks what it says and does against the real kernel.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// vpnpassBin is the binary under test, built once per run.
var vpnpassBin string

// binDir holds the binaries built for this run.
var binDir string

// testhooksBin is vpnpass built with the vpnpass_testhooks tag (the event
// flood of agent/testhooks_flood.go), built on first use only.
var testhooksBin struct {
	once sync.Once
	path string
	err  error
}

// floodBinary returns the path of the test-hooks build.
func floodBinary(t testing.TB) string {
	t.Helper()
	testhooksBin.once.Do(func() {
		path := filepath.Join(binDir, "vpnpass-testhooks")
		out, err := exec.Command("go", "build", "-tags", "vpnpass_testhooks", "-o", path,
			"github.com/vpnpass/vpnpass/cmd/vpnpass").CombinedOutput()
		if err != nil {
			testhooksBin.err = fmt.Errorf("build vpnpass -tags vpnpass_testhooks: %v\n%s", err, out)
			return
		}
		testhooksBin.path = path
	})
	if testhooksBin.err != nil {
		t.Fatal(testhooksBin.err)
	}
	return testhooksBin.path
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
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
