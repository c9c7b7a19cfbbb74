// Package e2e runs the vpnpass binary inside lab routers, as a user would run
// it on a router, and checks what it says and does against the real kernel.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// vpnpassBin is the binary under test, built once per run.
var vpnpassBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vpnpass-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
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
