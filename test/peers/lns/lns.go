// Package lns runs a real L2TP server (xl2tpd, Debian package xl2tpd) on
// addr:1701 inside a lab node, for tests of L2TP probing and diagnosis.
package lns

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// HostName is the name the server announces in its SCCRP.
const HostName = "lab-lns"

// Start runs xl2tpd in node, listening on addr, until the test ends. It
// skips the test without xl2tpd (fails it under CI=true).
func Start(t testing.TB, node *lab.Node, addr netip.Addr) {
	t.Helper()
	lab.RequireBinaries(t, "xl2tpd")
	dir := t.TempDir()
	conf := fmt.Sprintf("[global]\nlisten-addr = %s\nport = 1701\n\n[lns default]\nip range = 10.98.0.2-10.98.0.20\n"+
		"local ip = 10.98.0.1\nrequire authentication = no\nhostname = %s\n", addr, HostName)
	path := filepath.Join(dir, "xl2tpd.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd, err := node.Start("xl2tpd", "-D", "-c", path, "-p", filepath.Join(dir, "pid"), "-C", filepath.Join(dir, "control"))
	if err != nil {
		t.Fatal(err)
	}
	// xl2tpd listens before it creates its control pipe.
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "control")); err == nil {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("xl2tpd did not start: %v", cmd.Stdout)
		}
	}
}
