package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// Step is one stage of the demo. Add stages by appending to steps; each
// gets a header and runs even if an earlier one failed (the demo shows what
// happens, it does not stop at the first failure).
type Step struct {
	Name  string // for --steps
	Title string // printed as the header; may be refined by Run via d.Header
	Run   func(d *Demo) error
}

// steps is the demo's script, in order.
var steps = []Step{
	{Name: "lab", Title: "The lab", Run: stepLab},
	{Name: "udp500", Title: "Does IKE (UDP 500) from the LAN reach the VPN server?", Run: stepUDP500},
	{Name: "status", Title: "vpnpass status (in the router)", Run: stepStatus},
	{Name: "agent", Title: "Start the vpnpass agent in the router", Run: stepAgent},
	{Name: "enable", Title: "vpnpass enable ipsec (through the agent's socket)", Run: stepEnable},
	{Name: "udp500-after", Title: "Does IKE (UDP 500) pass now?", Run: stepUDP500},
	{Name: "status-after", Title: "vpnpass status (after enable)", Run: stepStatus},
	{Name: "explain", Title: "vpnpass explain: the path of one IKE packet", Run: stepExplain},
	{Name: "nat", Title: "vpnpass nat: why VPNs fail behind this router's upstream box", Run: stepNat},
	{Name: "probe", Title: "vpnpass probe: the router itself checks the VPN server (a PPTP server runs there; nothing on IKE or L2TP)", Run: stepProbe},
	{Name: "history", Title: "vpnpass history", Run: stepHistory},
	{Name: "stop", Title: "Stop the agent (SIGTERM): it removes every rule it added", Run: stepStop},
}

// Demo is what steps work with.
type Demo struct {
	Lab  *lab.Lab
	Opts options
	Out  io.Writer
	ctx  context.Context

	agent    *exec.Cmd  // the agent started by stepAgent
	agentLog lab.Buffer // its log, shown when it misbehaves
	tmpDirs  []string   // removed at the end
}

func (d *Demo) cleanup() {
	for _, dir := range d.tmpDirs {
		os.RemoveAll(dir)
	}
}

func (d *Demo) runSteps() int {
	code := 0
	only := map[string]bool{}
	for _, s := range strings.Split(d.Opts.only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			only[s] = true
		}
	}
	for _, s := range steps {
		if len(only) > 0 && !only[s.Name] {
			continue
		}
		if d.ctx.Err() != nil {
			return 130
		}
		header(d.Out, s.Title)
		if err := s.Run(d); err != nil {
			fmt.Fprintf(d.Out, "step %s failed: %v\n", s.Name, err)
			code = 1
		}
	}
	return code
}

// Vpnpass runs the vpnpass binary inside a node of the lab, prints its
// output as it comes, and returns an error naming the exit status. The
// socket points into a private directory so a vpnpass daemon of the host
// is never contacted; an agent started by a step inside the lab uses the
// same one.
func (d *Demo) Vpnpass(n *lab.Node, args ...string) error {
	cmd := d.command(n, args)
	cmd.Stdout, cmd.Stderr = d.Out, d.Out
	fmt.Fprintf(d.Out, "$ vpnpass %s   (in %s)\n", strings.Join(cmd.Args[1:], " "), n.NS)
	err := n.RunCmd(cmd)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("vpnpass %s exited with status %d", strings.Join(args, " "), exit.ExitCode())
	}
	return err
}

// Socket is the API socket path vpnpass uses in this demo.
func (d *Demo) Socket() string {
	return filepath.Join(os.TempDir(), d.Lab.Name+"-vpnpass.sock")
}

func stepLab(d *Demo) error {
	l := d.Lab
	fmt.Fprintf(d.Out, "Lab: %s\n", l.Describe())
	fmt.Fprintf(d.Out, "  topology %s; the server sees NATed LAN traffic from %s\n", l.Config.Topology, l.PublicAddr)
	fmt.Fprintf(d.Out, "  masquerade on the router's %s by %s\n", l.WANDevice, l.MasqueradeBy())
	for _, n := range l.Nodes() {
		fmt.Fprintf(d.Out, "  %-4s  ip netns exec %s ...\n", n.Role, n.NS)
	}
	return nil
}

// stepUDP500 sends one datagram from the LAN host to UDP 500 (IKE) and
// 4500 (NAT-T) on the server and says what came back.
func stepUDP500(d *Demo) error {
	l := d.Lab
	var failed []string
	for _, port := range []uint16{500, 4500} {
		dst := netip.AddrPortFrom(lab.Server, port)
		srv, err := l.Inet.ServeUDPEcho(dst)
		if err != nil {
			return err
		}
		_, seen, err := lab.UDPExchange(l.LAN, dst, []byte("vpnpass demo"), 2*time.Second)
		srv.Close()
		switch {
		case err == nil:
			fmt.Fprintf(d.Out, "  %s -> %s: answered; the server saw %s\n", lab.LANHost, dst, seen)
		case errors.Is(err, syscall.ECONNREFUSED):
			fmt.Fprintf(d.Out, "  %s -> %s: rejected (ICMP port unreachable came back)\n", lab.LANHost, dst)
			failed = append(failed, dst.String())
		case errors.Is(err, os.ErrDeadlineExceeded):
			fmt.Fprintf(d.Out, "  %s -> %s: no answer within 2 s (dropped)\n", lab.LANHost, dst)
			failed = append(failed, dst.String())
		default:
			return err
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(d.Out, "  => a VPN client on the LAN cannot reach %s\n", strings.Join(failed, ", "))
	}
	return nil
}

func stepStatus(d *Demo) error {
	return d.Vpnpass(d.Lab.Router, "status")
}

// Output runs vpnpass in a node and returns its output instead of
// printing it, for steps that want to pick from it.
func (d *Demo) Output(n *lab.Node, args ...string) ([]byte, error) {
	var out bytes.Buffer
	cmd := d.command(n, args)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := n.RunCmd(cmd)
	return out.Bytes(), err
}

func (d *Demo) command(n *lab.Node, args []string) *exec.Cmd {
	if d.Opts.config != "" {
		args = append([]string{"--config", d.Opts.config}, args...)
	}
	cmd := n.CommandContext(d.ctx, d.Opts.vpnpass, args...)
	cmd.Env = append(os.Environ(), "VPNPASS_SOCKET="+d.Socket())
	return cmd
}
