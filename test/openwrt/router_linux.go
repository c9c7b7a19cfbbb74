package openwrt

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// Router is the real OpenWrt userland running in a lab router: one mount
// namespace (inside the router's network namespace) where /usr, /etc and /var are
// overlays whose upper layers live in work, and /run and /tmp are work/run
// and work/tmp. The host reads the router's /run and /tmp through those.
type Router struct {
	t      *testing.T
	l      *lab.Lab
	root   string // VPNPASS_OPENWRT_ROOT
	bin    string // vpnpass binary
	work   string
	holder int // pid of the process holding the mount namespace
	logs   map[string]*lab.Buffer
	agent  *exec.Cmd
}

// nsSetup runs as root in a fresh private mount namespace: $1 work dir,
// $2 staged files (a tree of usr/ and etc/ copied over the overlays).
const nsSetup = `set -eu
W=$1 S=$2
for d in usr etc var; do
	mkdir -p "$W/$d-up" "$W/$d-work"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$W/$d-up,workdir=$W/$d-work" "/$d"
done
cp -a "$S/usr/." /usr/
cp -a "$S/etc/." /etc/
mkdir -p "$W/run/ubus" "$W/tmp"
chmod 1777 "$W/tmp"
mount --bind "$W/run" /run
mount --bind "$W/tmp" /tmp
: > /run/ns-ready
exec sleep 2147483647
`

// NewRouter stages the userland, our plugin, ACLs and configs, and starts the
// namespace holder. Files maps paths under / to contents (e.g.
// "etc/config/rpcd").
func NewRouter(t *testing.T, l *lab.Lab, files map[string]string) *Router {
	t.Helper()
	root, bin := Userland(t)
	r := &Router{t: t, l: l, root: root, bin: bin, work: t.TempDir(), logs: map[string]*lab.Buffer{}}
	stage := filepath.Join(r.work, "stage")
	r.stage(stage, files)
	script := filepath.Join(r.work, "setup.sh")
	must(t, os.WriteFile(script, []byte(nsSetup), 0o755))
	cmd := l.Router.Command("unshare", "--mount", "--propagation", "private", "/bin/sh", script, r.work, stage)
	r.startLogged(t, "holder", cmd)
	r.holder = cmd.Process.Pid
	r.WaitFile(filepath.Join(r.work, "run", "ns-ready"), 5*time.Second)
	t.Cleanup(func() {
		if t.Failed() {
			for name, b := range r.logs {
				t.Logf("%s output:\n%s", name, b.String())
			}
		}
	})
	return r
}

// stage builds the tree copied over /usr and /etc: the userland's programs as
// links into the root (where OpenWrt installs them; /sbin is /usr/sbin on
// Debian), vpnpass and its rpcd plugin as the package installs them, the ACL
// files, and the given files.
func (r *Router) stage(dir string, files map[string]string) {
	// A copy, not a link: the binary may sit under /tmp (go test builds
	// there), which the router's own /tmp hides.
	b, err := os.ReadFile(r.bin)
	must(r.t, err)
	writeFile(r.t, dir, "usr/sbin/vpnpass", string(b), 0o755)
	links := map[string]string{
		"usr/sbin/uci": filepath.Join(r.root, "usr/bin/uci"),
		"usr/lib/rpcd": filepath.Join(r.root, "usr/lib/rpcd"),
	}
	for _, p := range []string{"usr/sbin/ubusd", "usr/bin/ubus", "usr/sbin/rpcd", "usr/sbin/uhttpd",
		"usr/bin/uci", "usr/bin/ucode", "usr/lib/ucode", "usr/share/ucode"} {
		links[p] = filepath.Join(r.root, p)
	}
	for p, target := range links {
		mkdirFor(r.t, dir, p)
		must(r.t, os.Symlink(target, filepath.Join(dir, p)))
	}
	repo := RepoRoot(r.t)
	copies := map[string]string{
		"usr/libexec/rpcd/vpnpass":                   "openwrt/files/usr/libexec/rpcd/vpnpass",
		"usr/share/rpcd/acl.d/luci-app-vpnpass.json": "openwrt/luci-app-vpnpass/root/usr/share/rpcd/acl.d/luci-app-vpnpass.json",
		"usr/share/rpcd/acl.d/vpnpass-remote.json":   "openwrt/examples/acl.d/vpnpass-remote.json",
		"usr/share/rpcd/acl.d/unauthenticated.json":  "",
	}
	for p, src := range copies {
		if src == "" {
			src = filepath.Join(r.root, p)
		} else {
			src = filepath.Join(repo, src)
		}
		b, err := os.ReadFile(src)
		must(r.t, err)
		writeFile(r.t, dir, p, string(b), 0o755)
	}
	for p, text := range files {
		writeFile(r.t, dir, p, text, 0o755)
	}
	mkdirFor(r.t, dir, "etc/config/.keep")
}

// Command prepares name args to run inside the router's mount and network
// namespaces with the userland's libraries.
func (r *Router) Command(name string, args ...string) *exec.Cmd {
	nsArgs := append([]string{"-t", strconv.Itoa(r.holder), "-m", "--", name}, args...)
	cmd := r.l.Router.Command("nsenter", nsArgs...)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+filepath.Join(r.root, "usr/lib"),
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin")
	return cmd
}

// Run runs a command in the router and returns stdout; stderr goes to err.
func (r *Router) Run(stdin string, name string, args ...string) ([]byte, error) {
	cmd := r.Command(name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if err := r.l.Router.RunCmd(cmd); err != nil {
		return out.Bytes(), fmt.Errorf("%s %v: %w: %s", name, args, err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

// Daemon starts a long-running program in the router; the lab kills it.
func (r *Router) Daemon(name string, args ...string) *exec.Cmd {
	cmd := r.Command(name, args...)
	r.startLogged(r.t, name, cmd)
	return cmd
}

func (r *Router) startLogged(t *testing.T, name string, cmd *exec.Cmd) {
	t.Helper()
	b := &lab.Buffer{}
	cmd.Stdout, cmd.Stderr = b, b
	if err := r.l.Router.StartCmd(cmd); err != nil {
		t.Fatal(err)
	}
	r.logs[name] = b
}

// HostPath is where the host sees a path under the router's /run or /tmp.
func (r *Router) HostPath(p string) string {
	p = strings.TrimPrefix(p, "/var")
	return filepath.Join(r.work, p)
}

// EtcPath is where the host reads a file the router changed under /etc.
func (r *Router) EtcPath(p string) string {
	return filepath.Join(r.work, "etc-up", strings.TrimPrefix(p, "/etc/"))
}

// WaitFile waits until a file (a host path) exists.
func (r *Router) WaitFile(p string, within time.Duration) {
	r.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(p); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatalf("%s did not appear within %v", p, within)
}

// WaitFor polls fn until it succeeds.
func (r *Router) WaitFor(what string, within time.Duration, fn func() error) {
	r.t.Helper()
	deadline := time.Now().Add(within)
	var err error
	for time.Now().Before(deadline) {
		if err = fn(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("%s not ready within %v: %v", what, within, err)
}

// StartUbus starts ubusd and rpcd as OpenWrt's init scripts do (rpcd -t 30).
func (r *Router) StartUbus() {
	r.Daemon("ubusd")
	r.WaitFile(r.HostPath("/run/ubus/ubus.sock"), 5*time.Second)
	r.Daemon("rpcd", "-t", "30")
	r.WaitFor("rpcd", 5*time.Second, func() error {
		_, err := r.Run("", "ubus", "list", "session")
		return err
	})
}

// StartAgent starts `vpnpass agent` with its default paths
// (/etc/config/vpnpass, /var/run/vpnpass.sock), as procd runs it.
func (r *Router) StartAgent() {
	r.agent = r.Daemon("vpnpass", "agent")
	r.WaitFor("vpnpass agent", 10*time.Second, func() error {
		_, err := r.Run("", "vpnpass", "status", "--json")
		if err == nil {
			_, err = os.Stat(r.HostPath("/run/vpnpass.sock"))
		}
		return err
	})
}

// StopAgent sends SIGTERM (as procd) and waits for the exit.
func (r *Router) StopAgent() {
	r.t.Helper()
	must(r.t, r.agent.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- r.agent.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		r.t.Fatal("agent did not stop within 10 s of SIGTERM")
	}
}

// RepoRoot is the repository's top directory (where go.mod is), found from
// the test's working directory.
func RepoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	must(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

func mkdirFor(t *testing.T, dir, p string) {
	must(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755))
}

func writeFile(t *testing.T, dir, p, text string, mode os.FileMode) {
	mkdirFor(t, dir, p)
	must(t, os.WriteFile(filepath.Join(dir, p), []byte(text), mode))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
