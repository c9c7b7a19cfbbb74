package swan

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// Charon is one running strongSwan daemon.
type Charon struct {
	Node *lab.Node
	// Dir holds strongswan.conf, swanctl.conf, charon.log, the vici socket
	// and the private /run.
	Dir string
	cfg Config
	cmd *exec.Cmd

	stopOnce sync.Once
}

// Binaries Start needs.
const charonBin = "/usr/lib/ipsec/charon"

// Require skips the test without strongSwan (fails under CI=true).
func Require(t testing.TB) {
	t.Helper()
	for _, bin := range []string{charonBin, "swanctl", "ip"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("swan: needs %s: %v", bin, err)
			}
			t.Skipf("swan: needs %s: %v", bin, err)
		}
	}
}

// Start runs charon in node with cfg loaded, and returns once the
// configuration is loaded (its sockets on UDP 500 and 4500 are then
// open). It registers Stop with t.Cleanup, and logs charon's log when the
// test failed.
func Start(t testing.TB, node *lab.Node, cfg Config) *Charon {
	t.Helper()
	Require(t)
	cfg = cfg.withDefaults()
	dir, err := os.MkdirTemp("", "vpnpass-swan-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Charon{Node: node, Dir: dir, cfg: cfg}
	t.Cleanup(func() {
		c.Stop()
		if t.Failed() {
			t.Logf("charon in %s (%s):\n%s", node.Role, cfg.Role, tail(c.Logs(), 80))
		}
		os.RemoveAll(dir)
	})
	for name, content := range map[string]string{
		"strongswan.conf": fmt.Sprintf(strongswanConf, dir),
		"swanctl.conf":    cfg.swanctlConf(),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	c.cmd = node.Command("ip", "netns", "exec", node.NS, "sh", "-c",
		fmt.Sprintf("mount --bind %s/run /run && exec %s", dir, charonBin))
	c.cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+filepath.Join(dir, "strongswan.conf"))
	if err := node.StartCmd(c.cmd); err != nil {
		t.Fatalf("swan: %v", err)
	}
	// The vici socket appears before charon accepts on it: retry the load.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, err := c.Swanctl("--load-all", "--file", filepath.Join(dir, "swanctl.conf"))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("swan: charon in %s did not load its configuration: %v", node.Role, err)
		}
	}
	return c
}

// Swanctl runs swanctl against this charon; the operation comes first
// (`--initiate`, `--list-sas`, ...). The error includes the output.
func (c *Charon) Swanctl(args ...string) (string, error) {
	args = append(args, "--uri", c.VICI())
	out, err := exec.Command("swanctl", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("swanctl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// VICI is the URI of this charon's vici socket.
func (c *Charon) VICI() string { return "unix://" + filepath.Join(c.Dir, "charon.vici") }

// Initiate brings up the IKE SA and its child SA (initiator only) and
// waits at most timeout for the outcome: nil once the child is installed,
// the swanctl error (with charon's account of it) otherwise.
func (c *Charon) Initiate(timeout time.Duration) error {
	if c.cfg.Role != Initiator {
		return fmt.Errorf("swan: Initiate on a %s", c.cfg.Role)
	}
	secs := fmt.Sprint(max(1, int(timeout.Round(time.Second)/time.Second)))
	_, err := c.Swanctl("--initiate", "--ike", ConnName, "--child", ChildName, "--timeout", secs)
	return err
}

// SAs lists the IKE and child SAs (swanctl --list-sas).
func (c *Charon) SAs() (string, error) { return c.Swanctl("--list-sas") }

// Logs returns charon's log so far (IKE at level 2).
func (c *Charon) Logs() string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, "charon.log"))
	return string(b)
}

// Stop ends charon (SIGTERM to its process group, SIGKILL after 5 s) and
// waits for it. It is idempotent; Start's cleanup calls it.
func (c *Charon) Stop() {
	c.stopOnce.Do(func() {
		if c.cmd == nil || c.cmd.Process == nil {
			return
		}
		pgid := c.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = c.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-done
		}
	})
}

func tail(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
