// Command demo builds a network-namespace lab (test/lab) — by default the
// classic failing home setup: double NAT behind a locked-down fw4 router —
// and walks through a list of steps that run vpnpass inside the router
// namespace, printing a header for each step and what vpnpass prints. The
// lab is removed at the end, also on Ctrl-C or SIGTERM.
//
//	go run ./test/demo --vpnpass bin/vpnpass [--topology double] [--firewall fw4-locked]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/vpnpass/vpnpass/test/lab"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	vpnpass   string
	topology  lab.Topology
	firewalls []lab.Firewall
	wan       string
	ipv6      bool
	config    string
	only      string
	keep      bool
	ispPPTP   bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var topo, fw string
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.vpnpass, "vpnpass", "", "path of the built vpnpass binary (required)")
	fs.StringVar(&topo, "topology", "double", "single, double or cgnat")
	fs.StringVar(&fw, "firewall", string(lab.FW4Locked), fmt.Sprintf("comma-separated firewalls of the router, from %v", lab.AllFirewalls))
	fs.StringVar(&o.wan, "wan", lab.DefaultWANDevice, "the router's WAN device name")
	fs.BoolVar(&o.ipv6, "ipv6", false, "add the documentation IPv6 addresses")
	fs.StringVar(&o.config, "config", "", "vpnpass config file (passed as --config); default: vpnpass's own default")
	fs.StringVar(&o.only, "steps", "", "comma-separated step names to run (default: all); see --list")
	fs.BoolVar(&o.ispPPTP, "isp-pptp", false, "give the upstream NAT PPTP passthrough (pptp helper)")
	fs.BoolVar(&o.keep, "keep", false, "keep the lab after the steps until Ctrl-C (to look around with ip netns exec)")
	list := fs.Bool("list", false, "list the steps and exit")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if *list {
		for _, s := range steps {
			fmt.Fprintf(stderr, "%-10s %s\n", s.Name, s.Title)
		}
		return o, flag.ErrHelp
	}
	if o.vpnpass == "" {
		return o, errors.New("--vpnpass PATH is required (build it with `make build`)")
	}
	abs, err := filepath.Abs(o.vpnpass)
	if err != nil {
		return o, err
	}
	if st, err := os.Stat(abs); err != nil || st.IsDir() {
		return o, fmt.Errorf("--vpnpass %s: not a file (%v)", o.vpnpass, err)
	}
	o.vpnpass = abs
	if o.topology, err = lab.ParseTopology(topo); err != nil {
		return o, err
	}
	o.firewalls, err = lab.ParseFirewalls(fw)
	return o, err
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return 2
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(stderr, "demo: needs root (it builds network namespaces)")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if removed, err := lab.Sweep(); err != nil || len(removed) > 0 {
		fmt.Fprintf(stderr, "demo: removed leftovers of earlier labs %v (%v)\n", removed, err)
	}
	l, err := lab.Build(lab.Config{Topology: o.topology, Firewalls: o.firewalls, WANDevice: o.wan, IPv6: o.ipv6, ISPPPTPHelper: o.ispPPTP})
	if err != nil {
		fmt.Fprintln(stderr, "demo: build lab:", err)
		return 1
	}
	d := &Demo{Lab: l, Opts: o, Out: stdout, ctx: ctx}
	code := d.runSteps()
	defer d.cleanup()
	if o.keep && ctx.Err() == nil {
		header(stdout, "Lab kept: press Ctrl-C to remove it")
		<-ctx.Done()
	}
	header(stdout, "Removing the lab")
	if err := l.Close(); err != nil {
		fmt.Fprintln(stderr, "demo: remove lab:", err)
		code = 1
	} else {
		fmt.Fprintf(stdout, "removed namespaces %s\n", strings.Join(l.Namespaces(), ", "))
	}
	if ctx.Err() != nil && !o.keep {
		fmt.Fprintln(stderr, "demo: interrupted")
		return 130
	}
	return code
}

func header(w io.Writer, title string) {
	fmt.Fprintf(w, "\n=== %s\n", title)
}
