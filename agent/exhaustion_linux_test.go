package agent

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/logx"

	"github.com/vpnpass/vpnpass/agent/config"
	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/vpn"
)

// TestHistoryExhaustion: the history on a full tmpfs (full at start, or
// filling up while the agent runs) and on a read-only filesystem. The
// agent runs on without it, logs one message naming the fix (rate
// limited, not once per event), and never panics. The filesystems are
// real: small tmpfs mounts in a private mount namespace (this test binary
// run again under unshare -m), nothing is mounted on the host.
func TestHistoryExhaustion(t *testing.T) {
	if dir := os.Getenv("VPNPASS_EXHAUST_DIR"); dir != "" {
		exhaustChild(t, dir)
		return
	}
	if os.Getuid() != 0 {
		t.Skip("needs root for a mount namespace")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare(1)")
	}
	self, _ := os.Executable()
	cmd := exec.Command(unshare, "-m", "--propagation", "private", self, "-test.run", "^TestHistoryExhaustion$", "-test.v")
	cmd.Env = append(os.Environ(), "VPNPASS_EXHAUST_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("in the mount namespace:\n%s", out)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
}

func exhaustChild(t *testing.T, dir string) {
	mount := func(name, opts string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mount("tmpfs", p, "tmpfs", 0, opts); err != nil {
			t.Fatalf("mount tmpfs %s: %v", opts, err)
		}
		t.Cleanup(func() { syscall.Unmount(p, syscall.MNT_DETACH) })
		return p
	}
	fill := func(p string) {
		f, err := os.Create(filepath.Join(p, "filler"))
		if err != nil && !errors.Is(err, syscall.ENOSPC) {
			t.Fatal(err)
		}
		for err == nil {
			_, err = f.Write(make([]byte, 4096))
		}
		f.Close()
	}
	daemon := func(path string) (*Daemon, *bytes.Buffer) {
		var logs bytes.Buffer
		cfg := config.Defaults()
		cfg.HistoryPath = path
		return &Daemon{log: logx.New(&logs, logx.LevelInfo), limit: newLogLimiter(time.Minute), cfg: cfg}, &logs
	}
	expect := func(name string, logs *bytes.Buffer, fix string, times int) {
		if n := strings.Count(logs.String(), fix); n != times {
			t.Errorf("%s: %d messages naming the fix %q, want %d:\n%s", name, n, fix, times, logs)
		}
		t.Logf("%s prints: %s", name, strings.TrimSpace(logs.String()))
	}
	events := func(d *Daemon, n int) {
		for i := 0; i < n; i++ {
			d.record(&history.Event{Kind: history.KindVPNFinding, Severity: vpn.SeverityWarning, Message: strings.Repeat("x", 200)})
		}
	}

	full := mount("full", "size=64k")
	fill(full)
	d, logs := daemon(filepath.Join(full, "history.db"))
	d.openHistory()
	events(d, 100)
	if d.store != nil {
		t.Error("a history opened on a full filesystem")
	}
	expect("full at start", logs, "is full: free space there", 1)

	filling := mount("filling", "size=256k")
	d, logs = daemon(filepath.Join(filling, "history.db"))
	d.openHistory()
	if d.store == nil {
		t.Fatalf("history not opened:\n%s", logs)
	}
	fill(filling)
	for i := 0; i < 5; i++ {
		events(d, 200)
		d.store.Flush()
	}
	if st := d.store.Stats(); st.Dropped == 0 {
		t.Errorf("no event dropped on a full filesystem: %+v", st)
	}
	d.closeHistory()
	expect("filling up", logs, "is full: free space there", 1)

	ro := mount("ro", "size=64k")
	if err := syscall.Mount("tmpfs", ro, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY, "size=64k"); err != nil {
		t.Fatal(err)
	}
	d, logs = daemon(filepath.Join(ro, "history.db"))
	d.openHistory()
	events(d, 10)
	expect("read-only", logs, "is read-only: set history_path", 1)
}

// TestNotRootSaysSo: started as another user the agent exits at once with
// one line naming the fix (procd's respawn 3600 5 5 then gives up after
// five tries; it never loops).
func TestNotRootSaysSo(t *testing.T) {
	if sock := os.Getenv("VPNPASS_RUN_AS_NOBODY"); sock != "" {
		err := Run(context.Background(), Options{ConfigPath: "/nonexistent/vpnpass", SocketPath: sock,
			Logger: logx.New(os.Stderr, logx.LevelInfo)})
		if err != nil && strings.Contains(err.Error(), "must run as root") {
			os.Stdout.WriteString("ERR " + err.Error() + "\n")
			os.Exit(3)
		}
		t.Fatalf("as uid %d: %v", os.Getuid(), err)
	}
	if os.Getuid() != 0 {
		t.Skip("needs root to switch to nobody")
	}
	dir, err := os.MkdirTemp("", "agent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755) // root's directory: nobody may not create the socket
	bin := filepath.Join(dir, "agent.test")
	self, _ := os.Executable()
	if b, err := os.ReadFile(self); err != nil || os.WriteFile(bin, b, 0o755) != nil {
		t.Fatalf("copy test binary: %v", err)
	}
	cmd := exec.Command(bin, "-test.run", "^TestNotRootSaysSo$")
	cmd.Env = append(os.Environ(), "VPNPASS_RUN_AS_NOBODY="+filepath.Join(dir, "s"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	t.Logf("prints: %s", bytes.TrimSpace(out))
}
