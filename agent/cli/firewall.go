package cli

import (
	"context"
	"fmt"
	"github.com/vpnpass/vpnpass/vpn"
	"io"
	"strings"

	"github.com/vpnpass/vpnpass/agent"
	"github.com/vpnpass/vpnpass/agent/config"
	"github.com/vpnpass/vpnpass/agent/runlock"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/fw"
)

// SetResult is the API's `set` result.
type SetResult struct {
	Changed bool               `json:"changed"`
	Plan    []netfilter.Change `json:"plan"`
	Status  *agent.Status      `json:"status,omitempty"`
}

type setParams struct {
	Protocol string `json:"protocol"`
	Mode     string `json:"mode"`
	DryRun   bool   `json:"dry_run"`
}

// noinline: inlined into the command table, each call would get its own copy
// of the closure (~1.2 KiB on mips each).
//
//go:noinline
func modeCommand(mode netfilter.Mode) func(context.Context, *opts, Env) error {
	return func(ctx context.Context, o *opts, env Env) error {
		p, err := vpn.ParseProtocol(o.args[0])
		if err != nil {
			return usageError{err.Error()}
		}
		var res SetResult
		ok, err := callDaemon(ctx, o, "set", setParams{string(p), string(mode), o.dryRun}, &res)
		if err != nil {
			return err
		}
		if !ok {
			if !o.direct && !o.dryRun {
				return errNeedDaemon
			}
			if res, err = setDirect(ctx, o, env, p, mode); err != nil {
				return err
			}
		}
		if o.json {
			return printJSON(env.Stdout, res)
		}
		return printSet(env.Stdout, p, mode, o.dryRun, res)
	}
}

// setDirect changes one protocol's mode without a daemon: apply, then
// persist so a daemon started later keeps it.
func setDirect(ctx context.Context, o *opts, env Env, p vpn.Protocol, mode netfilter.Mode) (SetResult, error) {
	d, err := loadDirect(o, env, true)
	if err != nil {
		return SetResult{}, err
	}
	m, err := d.manager()
	if err != nil {
		return SetResult{}, err
	}
	desired := d.cfg.Desired()
	desired[p] = mode
	var res SetResult
	if o.dryRun {
		res.Plan, err = m.Plan(desired)
		res.Changed = len(res.Plan) > 0
		return res, err
	}
	if res.Plan, err = m.Apply(desired); err != nil {
		return res, err
	}
	res.Changed = len(res.Plan) > 0
	if err := config.SetMode(o.config, p, mode); err != nil {
		return res, fmt.Errorf("applied, but could not save the mode in %s: %w", o.config, err)
	}
	d.cfg.Modes[p] = mode
	st, err := d.status(ctx)
	res.Status = &st
	return res, err
}

func printSet(w io.Writer, p vpn.Protocol, mode netfilter.Mode, dry bool, res SetResult) error {
	b := &strings.Builder{}
	switch {
	case dry && len(res.Plan) == 0:
		fmt.Fprintf(b, "%s is already %s: nothing would change.\n", p, mode)
	case dry:
		fmt.Fprintf(b, "Setting %s to %s would make these changes:\n", p, mode)
	case !res.Changed:
		fmt.Fprintf(b, "%s was already %s: nothing changed.\n", p, mode)
	default:
		fmt.Fprintf(b, "%s is now %s.\n", p, mode)
	}
	if dry {
		for _, c := range res.Plan {
			fmt.Fprintf(b, "  %-6s %s %s %s/%s: %s\n", c.Action, c.Backend, c.Family, c.Table, c.Chain, c.Rule)
		}
	}
	if res.Status != nil {
		if ps, ok := res.Status.Protocols[p]; ok {
			fmt.Fprintf(b, "A new %s connection from the LAN now gets: %s\n", p, ps.Verdict)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func runCleanup(_ context.Context, o *opts, env Env) error {
	// Wait for an agent that is shutting down (rc.common's stop does not
	// wait for it): cleaning up under it races its shutdown, and a running
	// agent would put back what we remove. A new agent waits for us in turn.
	lock, err := runlock.AcquireIfExists(runlock.PathFor(o.socket), agent.RunLockWait)
	if err != nil {
		return fmt.Errorf("cleanup refused: a vpnpass agent is running and keeps its rules (stop it first: /etc/init.d/vpnpass stop): %w", err)
	}
	defer lock.Release()
	if runlock.HandingOver(o.socket) {
		// service_stopped during a restart: the old agent is gone (we waited
		// for it, so the new one can take the socket), and the new agent
		// adopts the rules.
		_, err := fmt.Fprintln(env.Stdout, "A restart is handing the rules over to the next agent: nothing removed.")
		return err
	}
	if err := fw.CleanupAll("/"); err != nil {
		return err
	}
	if o.json {
		return printJSON(env.Stdout, map[string]bool{"cleaned": true})
	}
	_, err = fmt.Fprintln(env.Stdout, "Removed every rule, chain and table vpnpass had added.")
	return err
}

// runHandover is the init script's restart: the stopping agent leaves its
// rules and the next one adopts them (runlock.Handover).
func runHandover(_ context.Context, o *opts, env Env) error {
	if err := runlock.Handover(o.socket); err != nil {
		return err
	}
	_, err := fmt.Fprintln(env.Stdout, "The next stop keeps the rules for the agent that starts after it (restart).")
	return err
}

type explainParams struct {
	Proto string `json:"proto"`
	Dst   string `json:"dst"`
	Dport int    `json:"dport,omitempty"`
	Src   string `json:"src,omitempty"`
}

func runExplain(ctx context.Context, o *opts, env Env) error {
	pk, err := agent.ExplainPacket(o.proto, o.dst, o.src, o.dport)
	if err != nil {
		return usageError{err.Error()}
	}
	ex, err := lookup(ctx, o, env, "explain", explainParams{o.proto, o.dst, o.dport, o.src}, func(d *direct) (netfilter.Explanation, error) {
		pk.OutIf = d.router.WAN.Primary(pk.Family)
		if len(d.router.LANDevices) > 0 {
			pk.InIf = d.router.LANDevices[0]
		}
		return fw.Explain(pk)
	})
	if err != nil {
		return err
	}
	return show(o, env, ex, printExplain)
}

func printExplain(w io.Writer, ex netfilter.Explanation) error {
	b := &strings.Builder{}
	for _, s := range ex.Path {
		fmt.Fprintf(b, "  %-9s %s %s/%s", s.Effect, s.Backend, s.Table, s.Chain)
		if s.Handle != 0 {
			fmt.Fprintf(b, " #%d", s.Handle)
		}
		if s.Rule != "" {
			fmt.Fprintf(b, ": %s", s.Rule)
		}
		if s.Comment != "" {
			fmt.Fprintf(b, "  (%s)", s.Comment)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(b, "Verdict: %s%s\n", ex.Verdict, decider(ex.DecidedBy))
	_, err := io.WriteString(w, b.String())
	return err
}

func decider(d *netfilter.Decider) string {
	if d == nil {
		return ""
	}
	if d.Policy != "" {
		return fmt.Sprintf(" (policy %s of %s %s)", d.Policy, d.Table, d.Chain)
	}
	s := fmt.Sprintf(" (rule #%d in %s %s", d.Handle, d.Table, d.Chain)
	if d.Comment != "" {
		s += ": " + d.Comment
	}
	return s + ")"
}
