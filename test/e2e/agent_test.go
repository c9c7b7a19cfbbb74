package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/test/lab"
)

// agentRun is a vpnpass agent running in a lab router.
type agentRun struct {
	l      *lab.Lab
	dir    string
	config string
	socket string
	cmd    *exec.Cmd
	log    *lab.Buffer
	bin    string   // the binary to run; "" = vpnpassBin
	env    []string // added to the agent's environment
	maxKB  int      // option history_max_kb; 0 = 512
	// options are extra lines of the agent section, e.g.
	// "list public_range '198.51.100.0/24'".
	options []string
	logged  bool // the log is printed on failure (registered once)
}

// agentConfig keeps everything in the test's directory, the flash copy of
// the history too: its default, /etc/vpnpass/history.db, is shared by every
// run on the machine, and a test's agent (or a direct set) would start from
// the events an earlier test left there.
const agentConfig = `config agent 'main'
	option enabled '1'
	option backend 'auto'
	list lan_device 'br-lan'
	option history_path '%s/history.db'
	option history_persist_path '%[1]s/saved-history.db'
	option history_max_kb '%d'
	option observe '1'
	option accounting '1'
%s
config passthrough 'pptp'
	option mode '%s'

config passthrough 'l2tp'
	option mode '%s'

config passthrough 'ipsec'
	option mode '%s'
`

// startAgent writes a config with the given modes (pptp, l2tp, ipsec) and
// starts `vpnpass agent` in the router, waiting until its socket answers.
func startAgent(t testing.TB, l *lab.Lab, modes ...string) *agentRun {
	t.Helper()
	a := newAgent(t, l)
	a.writeConfig(t, modes...)
	a.start(t)
	return a
}

// newAgent prepares an agent's directory (config, socket, history) without
// writing the config or starting it.
func newAgent(t testing.TB, l *lab.Lab) *agentRun {
	a := &agentRun{l: l, dir: t.TempDir(), log: &lab.Buffer{}}
	a.config = filepath.Join(a.dir, "vpnpass")
	a.socket = filepath.Join(a.dir, "vpnpass.sock")
	return a
}

func (a *agentRun) writeConfig(t testing.TB, modes ...string) {
	t.Helper()
	m := append(append([]string{}, modes...), "default", "default", "default")
	kb := a.maxKB
	if kb == 0 {
		kb = 512
	}
	var extra strings.Builder
	for _, o := range a.options {
		extra.WriteString("\t" + o + "\n")
	}
	text := fmt.Sprintf(agentConfig, a.dir, kb, extra.String(), m[0], m[1], m[2])
	if err := os.WriteFile(a.config, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (a *agentRun) start(t testing.TB) {
	t.Helper()
	bin := a.bin
	if bin == "" {
		bin = vpnpassBin
	}
	cmd := a.l.Router.Command(bin, "agent", "--config", a.config, "--socket", a.socket)
	cmd.Stdout, cmd.Stderr = a.log, a.log
	cmd.Env = append(os.Environ(), a.env...)
	if err := a.l.Router.StartCmd(cmd); err != nil {
		t.Fatal(err)
	}
	a.cmd = cmd
	if !a.logged {
		a.logged = true
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("agent log:\n%s", a.log.String())
			}
		})
	}
	// Ask the socket itself: the CLI's status would also succeed without a
	// daemon (it falls back to a direct look).
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = a.ping(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("agent did not answer status on %s within 10 s: %v\n%s", a.socket, err, a.log.String())
}

// ping calls the API's status on the agent's socket (a unix socket is
// reachable from any network namespace).
func (a *agentRun) ping() error {
	c, err := api.Dial(a.socket)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Call(ctx, "status", nil, nil)
}

// cli runs a vpnpass client command against this agent, inside the router.
func (a *agentRun) cli(args ...string) ([]byte, error) {
	args = append(args, "--socket", a.socket, "--config", a.config)
	return a.l.Router.Run(vpnpassBin, args...)
}

// stop sends SIGTERM and waits for the agent to exit.
func (a *agentRun) stop(t testing.TB) {
	t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("agent exited with %v\n%s", err, a.log.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("agent did not stop within 10 s of SIGTERM\n%s", a.log.String())
	}
}

// udpPasses reports whether a LAN client's UDP to the server's port is echoed.
func udpPasses(t *testing.T, l *lab.Lab, port uint16) bool {
	t.Helper()
	_, _, err := lab.UDPExchange(l.LAN, netip.AddrPortFrom(lab.Server, port), []byte("ike?"), 700*time.Millisecond)
	return err == nil
}

func serveUDP(t *testing.T, l *lab.Lab, ports ...uint16) {
	t.Helper()
	for _, p := range ports {
		c, err := l.Inet.ServeUDPEcho(netip.AddrPortFrom(lab.Server, p))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
}

type historyJSON struct {
	Events []struct {
		Kind     string `json:"kind"`
		Protocol string `json:"protocol"`
		Message  string `json:"message"`
	} `json:"events"`
}

func (a *agentRun) history(t *testing.T, kind string) historyJSON {
	t.Helper()
	out, err := a.cli("history", "--kind", kind, "--json")
	if err != nil {
		t.Fatalf("history: %v\n%s", err, out)
	}
	var h historyJSON
	if err := json.Unmarshal(out, &h); err != nil {
		t.Fatalf("history JSON: %v\n%s", err, out)
	}
	return h
}

// taggedRules counts rules carrying our tag in the router, by nft and by
// both iptables variants (test code may read the tools' output).
func taggedRules(t *testing.T, l *lab.Lab) int {
	t.Helper()
	n := 0
	if out, err := l.Nft("list", "ruleset"); err == nil {
		n += strings.Count(string(out), "vpnpass")
	}
	for _, v := range []string{"legacy", "nft"} {
		for _, tool := range []string{"iptables", "ip6tables"} {
			for _, table := range []string{"filter", "raw"} {
				out, _ := l.Router.Run(tool+"-"+v+"-save", "-t", table)
				n += strings.Count(string(out), "vpnpass")
			}
		}
	}
	return n
}

var syscallHUP = syscall.SIGHUP
