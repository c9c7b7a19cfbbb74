package api

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestNonRootRefused: the socket is 0600, so a process of another user is
// refused by the kernel even when it can reach the socket's directory; the
// Client says the API is for root only. The dialer is this test binary run
// again as nobody.
func TestNonRootRefused(t *testing.T) {
	if path := os.Getenv("VPNPASS_DIAL_AS_NOBODY"); path != "" {
		_, err := Dial(path)
		if errors.Is(err, os.ErrPermission) && strings.Contains(err.Error(), "root only") {
			os.Exit(3)
		}
		t.Fatalf("dial as uid %d: %v", os.Getuid(), err)
	}
	if os.Getuid() != 0 {
		t.Skip("needs root to switch to nobody")
	}
	dir, err := os.MkdirTemp("", "api")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755) // the directory is open: only the socket's mode guards it
	bin := filepath.Join(dir, "api.test")
	self, _ := os.Executable()
	if b, err := os.ReadFile(self); err != nil || os.WriteFile(bin, b, 0o755) != nil {
		t.Fatalf("copy test binary: %v", err)
	}
	path := filepath.Join(dir, "s")
	s := NewServer()
	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Close()
	cmd := exec.Command(bin, "-test.run", "^TestNonRootRefused$")
	cmd.Env = append(os.Environ(), "VPNPASS_DIAL_AS_NOBODY="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
}
