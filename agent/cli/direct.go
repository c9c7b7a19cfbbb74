package cli

import (
	"context"
	"errors"
	"io"
	"io/fs"

	"github.com/vpnpass/vpnpass/internal/errx"

	"github.com/vpnpass/vpnpass/agent"
	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/agent/config"
	"github.com/vpnpass/vpnpass/netfilter/fw"
)

// errNeedDaemon is what a write command says without a daemon.
var errNeedDaemon = exitError{code: ExitNoDaemon, err: errors.New(
	"the vpnpass daemon is not running: start it (/etc/init.d/vpnpass start, or `vpnpass agent`) or add --direct to act without it")}

// callDaemon makes a call of the daemon (typed: an api.Method's Args); ok
// is false when no daemon listens (or --direct).
func callDaemon(ctx context.Context, o *opts, call api.Args) (ok bool, err error) {
	if o.direct {
		return false, nil
	}
	c, err := api.Dial(o.socket)
	if errors.Is(err, api.ErrNoDaemon) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	c.Caller = &api.Caller{Origin: api.OriginCLI}
	err = call.Call(ctx, c)
	c.Close() // no defer: the CLI recovers nothing, a call is smaller
	if errors.Is(err, api.ErrNoDaemon) {
		return false, nil
	}
	if ae, ok := errx.As[*api.Error](err); ok && ae.Code == api.CodeBadParams {
		return true, usageError{ae.Message}
	}
	return true, err
}

// direct is a one-off look at (or change of) the router without a daemon.
type direct struct {
	cfg    config.Config
	paths  agent.Paths
	router agent.Router
}

// loadDirect reads the config and finds the router's devices. A missing LAN
// device only stops commands that change rules (needLAN); a look goes on.
func loadDirect(o *opts, env *Env, needLAN bool) (*direct, error) {
	cfg, problems, err := config.Load(o.config)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, p := range problems {
		io.WriteString(env.Stderr, "vpnpass: config: "+p.String()+"\n")
	}
	d := &direct{cfg: cfg, paths: agent.DefaultPaths()}
	d.router, err = agent.ResolveRouter(cfg, d.paths)
	if err != nil && !needLAN && len(d.router.LANDevices) == 0 {
		io.WriteString(env.Stderr, "vpnpass: "+err.Error()+"; verdicts assume traffic from any interface\n")
		err = nil
	}
	return d, err
}

// manager opens the firewall with the config's modes as the ones in force:
// a direct set clears the conntrack entries of the changed protocol only.
func (d *direct) manager() (*fw.Manager, error) {
	o := agent.FirewallOptions(d.cfg, d.router, d.paths, agent.ForgetFlows)
	o.Baseline = d.cfg.Desired()
	m, _, err := fw.Open(o)
	return m, err
}

// status is the direct status, with drift measured against the config.
func (d *direct) status(ctx context.Context) (api.Status, error) {
	desired := d.cfg.Desired()
	m, err := d.manager()
	if err != nil {
		m = nil // no drift known
	}
	drift := agent.Drift(m, desired)
	in := agent.StatusInput{LANDevices: d.router.LANDevices, Desired: desired, Drift: drift,
		Servers: agent.ConfigServers(d.cfg)}
	return agent.CollectStatus(ctx, agent.LiveSources(d.cfg, d.paths.Network), in)
}

// lookup asks the daemon; when none runs (or --direct) it returns the
// direct look the caller then makes itself (d nil: the daemon answered or
// err). No closure per command: a plain call is smaller.
func lookup(ctx context.Context, o *opts, env *Env, call api.Args) (d *direct, err error) {
	ok, err := callDaemon(ctx, o, call)
	if err != nil || ok {
		return nil, err
	}
	if d, err = loadDirect(o, env, false); err != nil {
		return nil, err // no look on a failed load
	}
	return d, nil
}

// show prints a result as JSON (--json) or for people. T is a pointer:
// every instantiation shares one copy of the code.
func show[T any](o *opts, env *Env, v T, human func(io.Writer, T) error) error {
	if o.json {
		return printJSON(env.Stdout, v)
	}
	return human(env.Stdout, v)
}
