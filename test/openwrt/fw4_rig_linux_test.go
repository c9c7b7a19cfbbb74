package openwrt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/test/lab"
)

// fw4Rig is a lab router running the real firewall4 (OpenWrt's fw4 script
// under busybox ash, ucode, uci, ubusd) and our agent with OpenWrt's own
// paths: /etc/config/firewall and network from testdata/fw4, the agent's
// /etc/config/vpnpass and /var/run/vpnpass.sock, and
// /usr/share/nftables.d holding our include symlink exactly as the package
// ships it. netifd cannot run in the lab: the zones are bound by `list
// device`, and fw4 finds no interfaces on ubus.
type fw4Rig struct {
	t     *testing.T
	l     *lab.Lab
	rt    *Router // the harness's mount namespace in the lab router
	agent *agentProc
}

// agentProc is one `vpnpass agent` process.
type agentProc struct {
	cmd    *exec.Cmd
	log    *lab.Buffer
	exited chan struct{}
	err    error
}

// includeLink is the package's symlink (openwrt/Makefile) and its target.
const (
	includeLink   = "/usr/share/nftables.d/chain-pre/forward/10-vpnpass.nft"
	includeTarget = "/var/run/vpnpass/fw4-forward.nft"
)

// newFW4Rig builds the lab and the router; modes are pptp, l2tp, ipsec.
func newFW4Rig(t *testing.T, modes ...string) *fw4Rig {
	t.Helper()
	Userland(t) // skips without VPNPASS_OPENWRT_ROOT, before any lab is built
	lab.RequireBinaries(t, "nft", "conntrack", "busybox", "unshare", "nsenter")
	l := lab.New(t, lab.Config{Topology: lab.Single})
	// The lab's own masquerade is not on a real router, and would hide
	// whether fw4's works.
	if out, err := l.Nft("delete", "table", "ip", "lab_nat"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	config := func(name string) string {
		text, err := os.ReadFile(filepath.Join("testdata", "fw4", name))
		must(t, err)
		return strings.ReplaceAll(string(text), "@WAN@", l.WANDevice)
	}
	files := map[string]string{"etc/config/vpnpass": agentConfig(t, modes...), "etc/config/network": config("network")}
	r := &fw4Rig{t: t, l: l, rt: NewRouter(t, l, files)}
	r.rt.StartUbus()
	r.rt.InstallFW4(config("firewall"))
	// Our package's symlink, dangling until the agent writes the file.
	if out, err := r.rt.Run("", "ln", "-sf", includeTarget, includeLink); err != nil {
		t.Fatalf("include symlink: %v\n%s", err, out)
	}
	for _, p := range []uint16{500, 4500} {
		c, err := l.Inet.ServeUDPEcho(netip.AddrPortFrom(lab.Server, p))
		must(t, err)
		t.Cleanup(func() { c.Close() })
	}
	t.Cleanup(r.stopAgentQuietly)
	return r
}

// agentConfig is the config the package ships with the given modes.
func agentConfig(t *testing.T, modes ...string) string {
	b, err := os.ReadFile(filepath.Join(RepoRoot(t), "openwrt/files/etc/config/vpnpass"))
	must(t, err)
	text := string(b)
	for i, p := range []string{"pptp", "l2tp", "ipsec"} {
		if i < len(modes) {
			sec := "config passthrough '" + p + "'\n\toption mode '"
			text = strings.Replace(text, sec+"default'", sec+modes[i]+"'", 1)
		}
	}
	return text
}

// fw4 runs `fw4 -q <op>` in the router and returns how long it took.
func (r *fw4Rig) fw4(op string) time.Duration {
	r.t.Helper()
	start := time.Now()
	out, err := r.rt.FW4("-q", op)
	took := time.Since(start)
	if err != nil {
		r.t.Fatalf("fw4 %s: %v\n%s", op, err, out)
	}
	return took
}

// run runs a command in the router's namespaces; the output is combined.
func (r *fw4Rig) run(name string, args ...string) ([]byte, error) {
	cmd := r.rt.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := r.l.Router.RunCmd(cmd)
	return out.Bytes(), err
}

// vpnpass runs a client command with OpenWrt's default paths.
func (r *fw4Rig) vpnpass(args ...string) ([]byte, error) {
	return r.run("vpnpass", args...)
}

func (r *fw4Rig) socket() string { return r.rt.HostPath("/run/vpnpass.sock") }

// startAgent starts `vpnpass agent` as procd does (default paths) and
// waits until its socket answers.
func (r *fw4Rig) startAgent() *agentProc {
	r.t.Helper()
	a := r.spawnAgent()
	r.agent = a
	if err := r.waitAnswer(a, 10*time.Second); err != nil {
		r.t.Fatalf("%v\n%s", err, a.log.String())
	}
	return a
}

// spawnAgent starts an agent process without waiting for it.
func (r *fw4Rig) spawnAgent() *agentProc {
	r.t.Helper()
	a := &agentProc{log: &lab.Buffer{}, exited: make(chan struct{})}
	a.cmd = r.rt.Command("vpnpass", "agent")
	a.cmd.Stdout, a.cmd.Stderr = a.log, a.log
	if err := r.l.Router.StartCmd(a.cmd); err != nil {
		r.t.Fatal(err)
	}
	go func() { a.err = a.cmd.Wait(); close(a.exited) }()
	r.t.Cleanup(func() {
		if r.t.Failed() {
			r.t.Logf("agent %d log:\n%s", a.cmd.Process.Pid, lastLines(a.log.String(), 40))
		}
	})
	return a
}

// waitAnswer waits until the socket answers status while a lives.
func (r *fw4Rig) waitAnswer(a *agentProc, within time.Duration) error {
	deadline := time.Now().Add(within)
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-a.exited:
			return fmt.Errorf("agent exited before answering: %v", a.err)
		default:
		}
		if err = ping(r.socket()); err == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("agent did not answer on %s within %s: %w", r.socket(), within, err)
}

func ping(socket string) error {
	c, err := api.Dial(socket)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Call(ctx, "status", nil, nil)
}

// term sends SIGTERM, as procd does on stop, and does not wait.
func (a *agentProc) term() { _ = a.cmd.Process.Signal(syscall.SIGTERM) }

func (a *agentProc) wait(within time.Duration) error {
	select {
	case <-a.exited:
		return a.err
	case <-time.After(within):
		return fmt.Errorf("agent %d still running %s after SIGTERM", a.cmd.Process.Pid, within)
	}
}

func (r *fw4Rig) stopAgentQuietly() {
	if r.agent == nil {
		return
	}
	r.agent.term()
	if r.agent.wait(5*time.Second) != nil {
		_ = r.agent.cmd.Process.Kill()
	}
}

// udpPasses reports whether a new LAN flow to the server's port is echoed.
func (r *fw4Rig) udpPasses(port uint16) bool {
	_, _, err := lab.UDPExchange(r.l.LAN, netip.AddrPortFrom(lab.Server, port), []byte("ike?"), 500*time.Millisecond)
	return err == nil
}

// requireLocked fails the test when fw4's locked-down policy lets a new
// IKE flow through without the agent: then nothing here would prove that
// our rules are what passes VPN traffic.
func (r *fw4Rig) requireLocked() {
	r.t.Helper()
	if r.udpPasses(500) {
		r.t.Fatalf("fw4 lets new IKE flows from the LAN through without the agent: the test proves nothing\n%s", r.forwardChain())
	}
}

// waitPasses polls udpPasses until it holds or within has passed.
func (r *fw4Rig) waitPasses(port uint16, within time.Duration) (time.Duration, bool) {
	start := time.Now()
	for {
		if r.udpPasses(port) {
			return time.Since(start), true
		}
		if time.Since(start) > within {
			return time.Since(start), false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ourTables are the tables the agent keeps in the router.
var ourTables = []string{"inet vpnpass", "inet vpnpass_watch"}

// missingTables lists those of ourTables the router lacks.
func (r *fw4Rig) missingTables() []string {
	have, err := r.l.Router.NftTables()
	if err != nil {
		r.t.Fatal(err)
	}
	var missing []string
	for _, w := range ourTables {
		if !slices.Contains(have, w) {
			missing = append(missing, w)
		}
	}
	return missing
}

// statusJSON is the part of Status these tests judge.
type statusJSON struct {
	Backend struct {
		Kind string `json:"kind"`
	} `json:"backend"`
	Protocols map[string]struct {
		Mode    string `json:"mode"`
		Verdict string `json:"verdict"`
		Drift   bool   `json:"drift"`
	} `json:"protocols"`
}

func (r *fw4Rig) status() statusJSON {
	r.t.Helper()
	out, err := r.vpnpass("status", "--json")
	if err != nil {
		r.t.Fatalf("status: %v\n%s", err, out)
	}
	var st statusJSON
	if err := json.Unmarshal(out, &st); err != nil {
		r.t.Fatalf("status JSON: %v\n%s", err, out)
	}
	return st
}

// verdictsRight checks that fw4 is in charge and every allowed protocol's
// new LAN→WAN packets are accepted, without drift.
func (r *fw4Rig) verdictsRight(allowed ...string) error {
	st := r.status()
	var errs []error
	if st.Backend.Kind != "fw4" {
		errs = append(errs, fmt.Errorf("backend %q, want fw4", st.Backend.Kind))
	}
	for _, p := range allowed {
		ps := st.Protocols[p]
		if ps.Mode != "allow" || ps.Verdict != "accept" || ps.Drift {
			errs = append(errs, fmt.Errorf("%s: mode %s verdict %s drift %v, want allow/accept/no drift", p, ps.Mode, ps.Verdict, ps.Drift))
		}
	}
	return errors.Join(errs...)
}

// includeInView reads our include through the package's symlink, as fw4
// reads it.
func (r *fw4Rig) includeInView() string {
	b, err := os.ReadFile(r.rt.HostPath(includeTarget))
	if err != nil {
		return ""
	}
	return string(b)
}

// waitInclude polls for our include, up to within.
func (r *fw4Rig) waitInclude(within time.Duration) bool {
	deadline := time.Now().Add(within)
	for r.includeInView() == "" {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
