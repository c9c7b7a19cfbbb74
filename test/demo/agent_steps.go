package main

import (
	"fmt"

	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/test/peers/pptppeer"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// demoConfig is the agent's config in the demo: the lab router's LAN bridge,
// history and its flash copy in a temp dir (never the host's /etc), every protocol default (vpnpass's safe default).
const demoConfig = `config agent 'main'
	option enabled '1'
	list lan_device 'br-lan'
	option history_path '%s'
	option history_persist_path '%[1]s.saved'

config passthrough 'pptp'
	option mode 'default'

config passthrough 'l2tp'
	option mode 'default'

config passthrough 'ipsec'
	option mode 'default'
`

// stepAgent starts `vpnpass agent` in the router and waits for its socket.
func stepAgent(d *Demo) error {
	if d.Opts.config == "" {
		dir, err := os.MkdirTemp("", d.Lab.Name+"-demo-")
		if err != nil {
			return err
		}
		d.tmpDirs = append(d.tmpDirs, dir)
		d.Opts.config = filepath.Join(dir, "vpnpass")
		text := fmt.Sprintf(demoConfig, filepath.Join(dir, "history.db"))
		if err := os.WriteFile(d.Opts.config, []byte(text), 0o644); err != nil {
			return err
		}
	}
	cmd := d.command(d.Lab.Router, []string{"agent"})
	cmd.Stdout, cmd.Stderr = &d.agentLog, &d.agentLog
	if err := d.Lab.Router.StartCmd(cmd); err != nil {
		return err
	}
	d.agent = cmd
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if _, err := d.Output(d.Lab.Router, "history", "--limit", "1"); err == nil {
			fmt.Fprintf(d.Out, "agent running (pid %d), API socket %s\n", cmd.Process.Pid, d.Socket())
			return nil
		}
	}
	return fmt.Errorf("the agent did not answer within 10 s; its log:\n%s", d.agentLog.String())
}

func stepEnable(d *Demo) error { return d.Vpnpass(d.Lab.Router, "enable", "ipsec") }

func stepExplain(d *Demo) error {
	return d.Vpnpass(d.Lab.Router, "explain", "--proto", "udp", "--dst", "203.0.113.10", "--dport", "500")
}

func stepNat(d *Demo) error { return d.Vpnpass(d.Lab.Router, "nat") }

// stepProbe runs a PPTP test server on the internet host, then lets the
// router probe every VPN port of it.
func stepProbe(d *Demo) error {
	var srv *pptppeer.Server
	if err := d.Lab.Inet.Do(func() (err error) { srv, err = pptppeer.Listen(lab.Server); return }); err != nil {
		return err
	}
	defer srv.Close()
	return d.Vpnpass(d.Lab.Router, "probe", lab.Server.String())
}

func stepHistory(d *Demo) error { return d.Vpnpass(d.Lab.Router, "history", "--limit", "10") }

// stepStop sends SIGTERM and shows that no rule of ours is left.
func stepStop(d *Demo) error {
	if d.agent == nil {
		return fmt.Errorf("no agent was started")
	}
	if err := d.agent.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- d.agent.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("agent exited with %v; log:\n%s", err, d.agentLog.String())
		}
	case <-time.After(10 * time.Second):
		return fmt.Errorf("agent still running 10 s after SIGTERM")
	}
	out, err := d.Lab.Nft("list", "ruleset")
	if err != nil {
		return err
	}
	if n := strings.Count(string(out), "vpnpass"); n > 0 {
		return fmt.Errorf("%d vpnpass objects left in the ruleset after stop", n)
	}
	fmt.Fprintln(d.Out, "agent stopped; the router's ruleset holds no vpnpass rule any more")
	return stepUDP500(d)
}
