package nfteval

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netns"
	"github.com/vpnpass/vpnpass/test/lab"
)

// testNS is a throw-away network namespace with an nftables connection into
// it: most of these tests need a kernel ruleset but no topology, so they do
// without a full lab.
type testNS struct {
	h    netns.NsHandle
	conn *nftables.Conn
}

func newNS(t testing.TB) *testNS {
	t.Helper()
	lab.Require(t)
	var h netns.NsHandle
	err := onThread(func(orig netns.NsHandle) error {
		var err error
		if h, err = netns.New(); err != nil { // switches this thread
			return err
		}
		return netns.Set(orig)
	})
	if err != nil {
		t.Fatalf("new netns: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	conn, err := nftables.New(nftables.WithNetNSFd(int(h)))
	if err != nil {
		t.Fatalf("nftables conn: %v", err)
	}
	return &testNS{h: h, conn: conn}
}

// onThread runs fn on a locked OS thread and gives it the thread's original
// namespace; the thread is released only if fn left it there.
func onThread(fn func(orig netns.NsHandle) error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			done <- err
			return
		}
		defer orig.Close()
		err = fn(orig)
		if cur, cerr := netns.Get(); cerr == nil {
			if cur.Equal(orig) {
				runtime.UnlockOSThread()
			}
			cur.Close()
		}
		done <- err
	}()
	return <-done
}

// nft runs the nft binary inside the namespace (fixtures only: product
// code never runs nft).
func (n *testNS) nft(t testing.TB, args ...string) string {
	t.Helper()
	return n.run(t, "nft", args...)
}

// run runs a command inside the namespace and fails the test on error.
func (n *testNS) run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, _ := n.runCPU(t, name, args...)
	return out
}

// nftCPU runs nft in the namespace and returns the CPU time it used.
func (n *testNS) nftCPU(t testing.TB, args ...string) time.Duration {
	t.Helper()
	_, cpu := n.runCPU(t, "nft", args...)
	return cpu
}

// runCPU runs a command in the namespace and returns its output and CPU
// time. Without the binary (a busybox VM) the test is skipped, or fails
// under CI=true, as lab.RequireTools does.
func (n *testNS) runCPU(t testing.TB, name string, args ...string) (string, time.Duration) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s binary needed: %v", name, err)
		}
		t.Skipf("%s binary needed: %v", name, err)
	}
	var out []byte
	var cpu time.Duration
	err := onThread(func(orig netns.NsHandle) error {
		if err := netns.Set(n.h); err != nil {
			return err
		}
		var err error
		cmd := exec.Command(name, args...)
		out, err = cmd.CombinedOutput()
		if cmd.ProcessState != nil {
			cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		if serr := netns.Set(orig); serr != nil {
			return serr
		}
		return err
	})
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), cpu
}

// load writes a ruleset to a file and loads it with nft -f.
func (n *testNS) load(t testing.TB, ruleset string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "ruleset.nft")
	if err := os.WriteFile(f, []byte(ruleset), 0o600); err != nil {
		t.Fatal(err)
	}
	n.nft(t, "-f", f)
}

func (n *testNS) read(t testing.TB) *Ruleset {
	t.Helper()
	rs, err := Read(n.conn.NetNS)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return rs
}

// fw4Ruleset is test/testdata/fw4-default.nft edited for this kernel as
// /work/shared/fixtures/README.md says: no flowtable and `flow offload`
// rule (no flowtable support here), no rtsp helper (out of tree), the
// include pointed at an empty directory, the WAN device renamed to eth1.
// locked also removes lan→wan forwarding.
func fw4Ruleset(t testing.TB, locked bool) string {
	t.Helper()
	b, err := os.ReadFile("../../test/testdata/fw4-default.nft")
	if err != nil {
		t.Fatal(err)
	}
	s := regexp.MustCompile(`(?s)\tflowtable ft \{.*?\n\t\}\n|\tct helper rtsp \{.*?\n\t\}\n`).ReplaceAllString(string(b), "")
	drop := []string{"flow offload @ft", `ct helper set "rtsp"`}
	if locked {
		drop = append(drop, "jump accept_to_wan comment")
	}
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if !containsAny(line, drop) {
			keep = append(keep, line)
		}
	}
	s = strings.Join(keep, "\n")
	s = strings.ReplaceAll(s, "/etc/nftables.d/*.nft", filepath.Join(t.TempDir(), "*.nft"))
	return strings.ReplaceAll(s, "pppoe-wan", "eth1")
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
