package conntrack

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// charon is one strongSwan daemon in a lab node: its own strongswan.conf,
// vici socket and /run (charon hard-codes /var/run/charon.pid), so several
// run side by side (notes/lab-facts.md).
type charon struct {
	node *lab.Node
	dir  string
}

const charonBin = "/usr/lib/ipsec/charon"

// requireStrongSwan skips without strongSwan, and fails under CI=true.
func requireStrongSwan(t *testing.T) {
	t.Helper()
	for _, bin := range []string{charonBin, "swanctl", "ip"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("strongSwan test needs %s: %v", bin, err)
			}
			t.Skipf("strongSwan test needs %s: %v", bin, err)
		}
	}
}

// kernel-libipsec does ESP in userspace over a TUN device and always
// encapsulates in UDP 4500: this kernel has no ESP. Short retransmits make a
// blocked exchange give up in about 12 s instead of 165 s.
const strongswanConf = `charon {
	load = random nonce aes sha1 sha2 hmac kdf gmp curve25519 kernel-libipsec kernel-netlink socket-default vici
	retransmit_tries = 3
	retransmit_timeout = 1.0
	install_virtual_ip = yes
	plugins {
		vici {
			socket = unix://%[1]s/charon.vici
		}
	}
	filelog {
		log {
			path = %[1]s/charon.log
			default = 1
			ike = 2
			flush_line = yes
		}
	}
}
`

func startCharon(t *testing.T, node *lab.Node, swanctlConf string) *charon {
	t.Helper()
	dir, err := os.MkdirTemp("", "vpnpass-charon-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := &charon{node: node, dir: dir}
	must(t, os.Mkdir(filepath.Join(dir, "run"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "strongswan.conf"), []byte(fmt.Sprintf(strongswanConf, dir)), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "swanctl.conf"), []byte(swanctlConf), 0o600))
	// `ip netns exec` gives the process a private mount namespace, so the
	// bind mount over /run stays its own.
	cmd := node.Command("ip", "netns", "exec", node.NS, "sh", "-c",
		fmt.Sprintf("mount --bind %s/run /run && exec %s", dir, charonBin))
	cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+filepath.Join(dir, "strongswan.conf"))
	must(t, node.StartCmd(cmd))
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "charon.log"))
			t.Logf("charon in %s:\n%s", node.Role, tail(string(b), 60))
		}
	})
	// The socket appears before charon accepts on it: retry the load.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.run("--load-all", "--file", filepath.Join(dir, "swanctl.conf"))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("charon in %s: %v", node.Role, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return c
}

// swanctl runs swanctl against this charon; the operation comes first.
func (c *charon) swanctl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.run(args...)
	if err != nil {
		t.Fatalf("swanctl %v: %v", args, err)
	}
	return out
}

func (c *charon) run(args ...string) (string, error) {
	args = append(args, "--uri", "unix://"+filepath.Join(c.dir, "charon.vici"))
	out, err := exec.Command("swanctl", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%w: %s", err, out)
	}
	return string(out), nil
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func tail(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// The VPN: the client gets a virtual IP from the server's pool and reaches
// Server2 (203.0.113.20) through the tunnel, while IKE goes to Server
// (203.0.113.10): the tunnel route never captures IKE itself.
const (
	vpnPool   = "10.99.0.0/24"
	vpnSecret = "vpnpass-lab-secret"
)

func serverConf() string {
	return fmt.Sprintf(`connections {
	srv {
		version = 2
		local_addrs = %s
		proposals = aes256-sha256-x25519
		pools = pool
		local { auth = psk
			id = server }
		remote { auth = psk
			id = client }
		children { net { local_ts = %s/32
			esp_proposals = aes256-sha256 } }
	}
}
pools { pool { addrs = %s } }
secrets { ike-1 { id-1 = server
	id-2 = client
	secret = %s } }
`, lab.Server, lab.Server2, vpnPool, vpnSecret)
}

func clientConf() string {
	return fmt.Sprintf(`connections {
	cli {
		version = 2
		remote_addrs = %s
		vips = 0.0.0.0
		proposals = aes256-sha256-x25519
		local { auth = psk
			id = client }
		remote { auth = psk
			id = server }
		children { net { remote_ts = %s/32
			esp_proposals = aes256-sha256 } }
	}
}
secrets { ike-1 { id-1 = client
	id-2 = server
	secret = %s } }
`, lab.Server, lab.Server2, vpnSecret)
}
