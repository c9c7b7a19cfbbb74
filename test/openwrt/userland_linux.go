package openwrt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rootEnv names the built userland; binEnv the vpnpass binary under test.
const (
	rootEnv = "VPNPASS_OPENWRT_ROOT"
	binEnv  = "VPNPASS_BIN"
)

// required lists what the tests run from the root, relative to it.
var required = []string{
	"usr/sbin/ubusd", "usr/bin/ubus", "usr/sbin/rpcd", "usr/sbin/uhttpd", "usr/bin/uci",
	"usr/lib/libubox.so", "usr/lib/libubus.so", "usr/lib/libuci.so", "usr/lib/uhttpd_ubus.so",
	"usr/lib/libustream-ssl.so", "usr/share/rpcd/acl.d/unauthenticated.json",
	"sbin/fw4", "usr/share/firewall4/main.uc", "usr/share/ucode/fw4.uc", "usr/bin/utpl",
	"www/luci-static/resources/luci.js", "www/luci-static/resources/rpc.js",
}

// Userland returns the OpenWrt root and the vpnpass binary. It skips the test
// when VPNPASS_OPENWRT_ROOT is unset and fails it when the root lacks a part.
func Userland(t *testing.T) (root, bin string) {
	t.Helper()
	root = os.Getenv(rootEnv)
	if root == "" {
		t.Skipf("%s is unset: the real OpenWrt userland tests run under `make test-openwrt` (docs/openwrt-testing.md)", rootEnv)
	}
	if abs, err := filepath.Abs(root); err == nil && (abs == "/tmp" || strings.HasPrefix(abs, "/tmp/")) {
		t.Fatalf("%s=%s: the root must not be under /tmp (a test router's /tmp is its own)", rootEnv, root)
	}
	for _, p := range required {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Fatalf("%s=%s is not a built OpenWrt userland: %v\n"+
				"build libubox, ubus, uci, rpcd, uhttpd (ubus, TLS via ustream-ssl), ucode and firewall4 "+
				"into it as docs/openwrt-testing.md describes", rootEnv, root, err)
		}
	}
	bin = os.Getenv(binEnv)
	if bin == "" {
		bin = filepath.Join(RepoRoot(t), "bin", "vpnpass")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("vpnpass binary %s: %v (run `make build`, or set %s)", abs, err, binEnv)
	}
	return root, abs
}
