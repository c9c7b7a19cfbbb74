package lab

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// ours lists the namespaces of one lab that still exist, as the lab
// package sees them.
func ours(t *testing.T, labName string) []string {
	t.Helper()
	var left []string
	names, err := ListNamespaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if belongsTo(n, labName) {
			left = append(left, n)
		}
	}
	return left
}

// oursIP lists them as `ip netns list` does (nil where ip is missing).
func oursIP(t *testing.T, labName string) []string {
	t.Helper()
	var left []string
	if _, err := exec.LookPath("ip"); err == nil {
		out, err := exec.Command("ip", "netns", "list").CombinedOutput()
		if strings.Contains(string(out), "BusyBox") {
			return nil // busybox ip has no netns command
		}
		if err != nil {
			t.Fatalf("ip netns list: %v: %s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 0 && belongsTo(f[0], labName) {
				left = append(left, f[0])
			}
		}
	}
	return left
}

// TestCloseRemovesEverything: namespaces, temp files and started processes
// are gone after Close, and the root namespace gained no link.
func TestCloseRemovesEverything(t *testing.T) {
	Require(t)
	for _, topo := range []Topology{Single, Double, CGNAT} {
		t.Run(topo.String(), func(t *testing.T) {
			before := rootLinks(t)
			l, err := Build(Config{Topology: topo, Firewalls: []Firewall{NftablesDrop}, IPv6: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = l.Close() }) // in case an assertion below fails
			if got := ours(t, l.Name); len(got) != len(l.Nodes()) {
				t.Errorf("namespaces %v listed for %s, want %d", got, l.Name, len(l.Nodes()))
			}
			if got := oursIP(t, l.Name); got != nil && len(got) != len(l.Nodes()) {
				t.Errorf("ip netns list shows %v for %s, want %d", got, l.Name, len(l.Nodes()))
			}
			for name, idx := range rootLinks(t) {
				if before[name] != idx {
					t.Errorf("root namespace gained link %s", name)
				}
			}
			cmd := child(l.Router, "sleep")
			if err := l.Router.StartCmd(cmd); err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if left := append(ours(t, l.Name), oursIP(t, l.Name)...); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
			if _, err := os.Stat(l.tmpDir); !os.IsNotExist(err) {
				t.Errorf("temp dir %s still there (%v)", l.tmpDir, err)
			}
			if pidAlive(cmd.Process.Pid) {
				t.Errorf("started process %d still there after Close", cmd.Process.Pid)
			}
			if err := l.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

func rootLinks(t *testing.T) map[string]int {
	t.Helper()
	links, err := netlink.LinkList() // this goroutine's thread is in the root namespace
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, l := range links {
		m[l.Attrs().Name] = l.Attrs().Index
	}
	return m
}

var helperLabLine = regexp.MustCompile(`lab-name: (\S+) sleep-pid: (\d+)`)

// TestFailingTestCleansUp runs a test that builds a lab, starts a process
// and fails midway (in a child test binary), then checks that t.Cleanup
// removed the namespaces and killed the process.
func TestFailingTestCleansUp(t *testing.T) {
	Require(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFailMidway$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "LAB_HELPER_FAIL_MIDWAY=1", "CI=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("helper test passed, want a failure:\n%s", out)
	}
	m := helperLabLine.FindSubmatch(out)
	if m == nil {
		t.Fatalf("helper printed no lab name:\n%s", out)
	}
	if !strings.Contains(string(out), "failing on purpose") {
		t.Fatalf("helper failed for another reason:\n%s", out)
	}
	if left := append(ours(t, string(m[1])), oursIP(t, string(m[1]))...); len(left) > 0 {
		t.Errorf("failed test left %v", left)
	}
	pid, _ := strconv.Atoi(string(m[2]))
	if pidAlive(pid) {
		t.Errorf("process %d started in the failed test still runs", pid)
	}
}

// TestHelperFailMidway is run by TestFailingTestCleansUp only.
func TestHelperFailMidway(t *testing.T) {
	if os.Getenv("LAB_HELPER_FAIL_MIDWAY") != "1" {
		t.Skip("run by TestFailingTestCleansUp")
	}
	l := New(t, Config{Topology: Double, Firewalls: []Firewall{NftablesDrop}})
	cmd := child(l.Router, "sleep")
	if err := l.Router.StartCmd(cmd); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("lab-name: %s sleep-pid: %d\n", l.Name, cmd.Process.Pid)
	t.Fatal("failing on purpose midway")
}

// TestSweep: namespaces of a dead creator go (with what runs in them);
// those of a living lab stay.
func TestSweep(t *testing.T) {
	Require(t)
	live := New(t, Config{Topology: Single})
	dead := deadPid(t)
	name := fmt.Sprintf("%s%d-beef-%s", NamePrefix, dead, RoleRouter)
	n, err := newNode(name, RoleRouter)
	if err != nil {
		t.Fatal(err)
	}
	defer n.handle.Close()
	defer n.nl.Close()
	t.Cleanup(func() { _ = netns.DeleteNamed(name) })
	orphan := child(n, "sleep")
	if err := n.startCmd(orphan); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- orphan.Wait() }()

	removed, err := Sweep()
	if err != nil {
		t.Fatal(err)
	}
	if !contains(removed, name) {
		t.Errorf("Sweep removed %v, want %s among them", removed, name)
	}
	for _, r := range removed {
		if belongsTo(r, live.Name) {
			t.Errorf("Sweep removed %s of a living lab", r)
		}
	}
	if got := len(ours(t, live.Name)); got != len(live.Nodes()) {
		t.Errorf("living lab has %d namespaces after Sweep, want %d", got, len(live.Nodes()))
	}
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Error("process inside the swept namespace still runs")
	}
}

// deadPid returns the pid of a process that has exited.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=exit")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if pidAlive(cmd.Process.Pid) {
		t.Skip("pid reused at once")
	}
	return cmd.Process.Pid
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestDoRestoresThread: fn runs in the node's namespace, the caller's
// thread never leaves the root namespace, and a forked process lands in the
// node's namespace.
func TestDoRestoresThread(t *testing.T) {
	l := New(t, Config{Topology: Single})
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	root, err := os.Stat("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range l.Nodes() {
		want, err := os.Stat(NetnsDir + "/" + n.NS)
		if err != nil {
			t.Fatal(err)
		}
		err = n.Do(func() error {
			inside, err := os.Stat("/proc/thread-self/ns/net")
			if err != nil {
				return err
			}
			if !os.SameFile(inside, want) {
				return fmt.Errorf("fn runs outside %s", n.NS)
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
		var out bytes.Buffer
		cmd := child(n, "netns")
		cmd.Stdout = &out
		if err := n.RunCmd(cmd); err != nil {
			t.Fatal(err)
		}
		ino := want.Sys().(*syscall.Stat_t).Ino
		if got := strings.TrimSpace(out.String()); got != fmt.Sprintf("net:[%d]", ino) {
			t.Errorf("process in %s runs in %s, want net:[%d]", n.NS, got, ino)
		}
		after, err := os.Stat("/proc/thread-self/ns/net")
		if err != nil {
			t.Fatal(err)
		}
		if !os.SameFile(after, root) {
			t.Fatalf("caller's thread left the root namespace after Do in %s", n.NS)
		}
	}
	if err := l.Router.Do(func() error { panic("boom") }); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("panic in fn: got %v, want an error naming it", err)
	}
}

// TestSysctlPerNamespace: forwarding is on in the router and the isp only.
func TestSysctlPerNamespace(t *testing.T) {
	l := New(t, Config{Topology: Double})
	for _, n := range l.Nodes() {
		want := "0"
		if n == l.Router || n == l.ISP {
			want = "1"
		}
		if v, err := n.ReadSysctl("net.ipv4.ip_forward"); err != nil || v != want {
			t.Errorf("%s ip_forward = %q (%v), want %s", n.Role, v, err, want)
		}
	}
}

// TestCloseWhileCallerWaits: a test waiting for its own process does not
// race with Close killing it (run with -race).
func TestCloseWhileCallerWaits(t *testing.T) {
	Require(t)
	l, err := Build(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cmd := child(l.LAN, "sleep")
	if err := l.LAN.StartCmd(cmd); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		if err == nil {
			t.Error("killed process reported success")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("caller's Wait did not return after Close")
	}
}
