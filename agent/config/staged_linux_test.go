package config

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
)

// realUCI finds OpenWrt's uci: under VPNPASS_OPENWRT_ROOT (make
// test-openwrt builds it there), else on PATH.
func realUCI(t *testing.T) (bin string, env []string) {
	t.Helper()
	if root := os.Getenv("VPNPASS_OPENWRT_ROOT"); root != "" {
		env = append(os.Environ(), "LD_LIBRARY_PATH="+filepath.Join(root, "lib")+":"+filepath.Join(root, "usr", "lib"))
		for _, dir := range []string{"bin", "usr/bin"} {
			if bin = filepath.Join(root, dir, "uci"); fileExists(bin) {
				return bin, env
			}
		}
	}
	if p, err := exec.LookPath("uci"); err == nil {
		return p, os.Environ()
	}
	t.Skip("no uci binary (make test-openwrt builds one under VPNPASS_OPENWRT_ROOT)")
	return "", nil
}

// TestSetModeKeepsForeignStaged: someone staged a change of our package with
// `uci set` (LuCI mid-edit); our SetMode commits our mode only, and their
// change stays staged, neither committed nor lost.
func TestSetModeKeepsForeignStaged(t *testing.T) {
	bin, env := realUCI(t)
	confdir := t.TempDir()
	// A package name of our own: uci stages in its default directory
	// (/tmp/.uci), where the old `uci set; uci commit` path looked too.
	pkg := "vpnpasstest" + strings.ReplaceAll(filepath.Base(confdir), "-", "")
	path := filepath.Join(confdir, pkg)
	t.Cleanup(func() { os.Remove(filepath.Join("/tmp/.uci", pkg)) })
	if err := os.WriteFile(path, []byte("config agent 'main'\n\toption stun_server ''\n\nconfig passthrough 'pptp'\n\toption mode 'default'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	uci := func(args ...string) string {
		cmd := exec.Command(bin, append([]string{"-c", confdir}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("uci %v: %v: %s", args, err, out)
		}
		return string(out)
	}
	uci("set", pkg+".main.stun_server=stun.example.net:3478")
	if err := SetMode(path, vpn.IPsec, netfilter.ModeAllow); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := Load(path)
	if err != nil || cfg.Modes[vpn.IPsec] != netfilter.ModeAllow {
		t.Fatalf("our mode not committed: %v %v", cfg.Modes, err)
	}
	if cfg.STUNServer != "" {
		t.Errorf("the foreign staged change was committed: stun_server %q", cfg.STUNServer)
	}
	if ch := uci("changes", pkg); !strings.Contains(ch, pkg+".main.stun_server='stun.example.net:3478'") {
		t.Errorf("the foreign change is no longer staged: %q", ch)
	}
	// Through uci (staged view), both show.
	if got := strings.TrimSpace(uci("get", pkg+".ipsec.mode")); got != "allow" {
		t.Errorf("uci get ipsec.mode = %q, want allow", got)
	}
}

// TestSetModeWaitsForUCILock: SetMode takes libuci's commit lock (flock on
// the config file), so it never writes while a `uci commit` does.
func TestSetModeWaitsForUCILock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vpnpass")
	if err := os.WriteFile(path, []byte("config passthrough 'pptp'\n\toption mode 'default'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- SetMode(path, vpn.PPTP, netfilter.ModeBlock) }()
	select {
	case err := <-done:
		t.Fatalf("SetMode finished (%v) while uci's lock was held", err)
	case <-time.After(200 * time.Millisecond):
	}
	f.Close() // releases the lock
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if cfg, _, err := Load(path); err != nil || cfg.Modes[vpn.PPTP] != netfilter.ModeBlock {
		t.Fatalf("after the lock: %v %v", cfg.Modes, err)
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
