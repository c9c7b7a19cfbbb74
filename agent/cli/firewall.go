package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/agent"
	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/agent/runlock"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/fw"
)

// runMode runs enable, block and disable: o.mode is the mode they set.
func runMode(ctx context.Context, o *opts, env *Env) error {
	mode := o.mode
	p, err := vpn.ParseProtocol(o.args[0])
	if err != nil {
		return usageError{err.Error()}
	}
	params := api.SetParams{Protocol: string(p), Mode: string(mode), DryRun: o.dryRun}
	var res api.SetResult
	ok, err := callDaemon(ctx, o, api.MethodSet.Args(&params, &res))
	if err != nil {
		return err
	}
	if !ok {
		if !o.direct && !o.dryRun {
			return errNeedDaemon
		}
		if res, err = setDirect(ctx, o, env, params); err != nil {
			return err
		}
	}
	if o.json {
		return printJSON(env.Stdout, res)
	}
	return printSet(env.Stdout, p, mode, o.dryRun, res)
}

// setDirect is the daemon's set (agent.Set) without a daemon: on a firewall
// and config of its own, recorded in the history when it can be opened
// (the daemon is not running, so its lock is free).
func setDirect(ctx context.Context, o *opts, env *Env, p api.SetParams) (none api.SetResult, err error) {
	s, err := agent.ParseSetting(p, api.Caller{Origin: api.OriginCLI})
	if err != nil {
		return none, usageError{err.Error()}
	}
	d, err := loadDirect(o, env, true)
	if err != nil {
		return none, err
	}
	m, err := d.manager()
	if err != nil {
		return none, err
	}
	t := agent.SetTarget{Firewall: m, Config: &d.cfg, ConfigPath: o.config, Record: func(*history.Event) {}}
	var store *history.Store
	if !s.DryRun {
		if store, err = agent.OpenHistory(d.cfg); err != nil {
			unrecorded(env, err)
			store = nil
		} else {
			t.Record = func(ev *history.Event) { recordDirect(env, store, *ev) }
		}
	}
	res, err := agent.Set(t, s)
	if err == nil {
		res = agent.WithStatus(ctx, res, s, d.status)
	}
	// No defers (the CLI recovers nothing): the history is written, then
	// the firewall closed, at the one exit.
	if store != nil {
		closeHistory(env, store)
	}
	m.Close()
	return res, err
}

// unrecorded tells that a direct change could not go into the history.
func unrecorded(env *Env, err error) {
	io.WriteString(env.Stderr, "vpnpass: the change is not recorded in the history: "+err.Error()+"\n")
}

func recordDirect(env *Env, store *history.Store, ev history.Event) {
	if err := store.Append(&ev); err != nil {
		unrecorded(env, err)
	}
}

// closeHistory writes what was appended (the store batches): a failure
// shows only here.
func closeHistory(env *Env, store *history.Store) {
	if err := store.Close(); err != nil {
		unrecorded(env, err)
	}
}

func printSet(w io.Writer, p vpn.Protocol, mode netfilter.Mode, dry bool, res api.SetResult) error {
	b := &strings.Builder{}
	switch {
	case dry && len(res.Plan) == 0:
		b.WriteString(string(p) + " is already " + string(mode) + ": nothing would change.\n")
	case dry:
		b.WriteString("Setting " + string(p) + " to " + string(mode) + " would make these changes:\n")
	case !res.Changed:
		b.WriteString(string(p) + " was already " + string(mode) + ": nothing changed.\n")
	default:
		b.WriteString(string(p) + " is now " + string(mode) + ".\n")
	}
	if dry {
		for _, c := range res.Plan {
			b.WriteString("  " + pad(string(c.Action), 6) + " " + string(c.Backend) + " " + string(c.Family) + " " + c.Table + "/" + c.Chain + ": " + c.Rule + "\n")
		}
	}
	if res.Status != nil {
		if ps, ok := res.Status.Protocols[p]; ok {
			b.WriteString("A new " + string(p) + " connection from the LAN now gets: " + string(ps.Verdict) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func runCleanup(_ context.Context, o *opts, env *Env) error {
	// Wait for an agent that is shutting down (rc.common's stop does not
	// wait for it): cleaning up under it races its shutdown, and a running
	// agent would put back what we remove. A new agent waits for us in turn.
	lock, err := runlock.AcquireIfExists(runlock.PathFor(o.socket), agent.RunLockWait)
	if err != nil {
		return fmt.Errorf("cleanup refused: a vpnpass agent is running and keeps its rules (stop it first: /etc/init.d/vpnpass stop): %w", err)
	}
	err = cleanup(o, env)
	lock.Release() // no defer: the CLI recovers nothing, a call is smaller
	return err
}

// cleanup is runCleanup's work under the run lock.
func cleanup(o *opts, env *Env) error {
	if runlock.HandingOver(o.socket) {
		// service_stopped during a restart: the old agent is gone (we waited
		// for it, so the new one can take the socket), and the new agent
		// adopts the rules.
		_, err := io.WriteString(env.Stdout, "A restart is handing the rules over to the next agent: nothing removed.\n")
		return err
	}
	if err := fw.CleanupAll("/"); err != nil {
		return err
	}
	if o.json {
		return printJSON(env.Stdout, map[string]bool{"cleaned": true})
	}
	_, err := io.WriteString(env.Stdout, "Removed every rule, chain and table vpnpass had added.\n")
	return err
}

// runHandover is the init script's restart: the stopping agent leaves its
// rules and the next one adopts them (runlock.Handover).
func runHandover(_ context.Context, o *opts, env *Env) error {
	if err := runlock.Handover(o.socket); err != nil {
		return err
	}
	_, err := io.WriteString(env.Stdout, "The next stop keeps the rules for the agent that starts after it (restart).\n")
	return err
}

func runExplain(ctx context.Context, o *opts, env *Env) error {
	pk, err := agent.ExplainPacket(o.proto, o.dst, o.src, o.dport)
	if err != nil {
		return usageError{err.Error()}
	}
	var ex netfilter.Explanation
	p := api.ExplainParams{Proto: o.proto, Dst: o.dst, Dport: o.dport, Src: o.src}
	d, err := lookup(ctx, o, env, api.MethodExplain.Args(&p, &ex))
	if d != nil {
		pk.OutIf = d.router.WAN.Primary(pk.Family)
		if len(d.router.LANDevices) > 0 {
			pk.InIf = d.router.LANDevices[0]
		}
		ex, err = fw.Explain(pk)
	}
	if err != nil {
		return err
	}
	return show(o, env, &ex, printExplain)
}

func printExplain(w io.Writer, ex *netfilter.Explanation) error {
	b := &strings.Builder{}
	for _, s := range ex.Path {
		b.WriteString("  " + pad(string(s.Effect), 9) + " " + string(s.Backend) + " " + s.Table + "/" + s.Chain)
		if s.Handle != 0 {
			b.WriteString(" #" + strconv.FormatUint(uint64(s.Handle), 10))
		}
		if s.Rule != "" {
			b.WriteString(": " + s.Rule)
		}
		if s.Comment != "" {
			b.WriteString("  (" + s.Comment + ")")
		}
		b.WriteString("\n")
	}
	b.WriteString("Verdict: " + string(ex.Verdict) + decider(ex.DecidedBy) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func decider(d *netfilter.Decider) string {
	if d == nil {
		return ""
	}
	if d.Policy != "" {
		return " (policy " + string(d.Policy) + " of " + d.Table + " " + d.Chain + ")"
	}
	s := " (rule #" + strconv.FormatUint(uint64(d.Handle), 10) + " in " + d.Table + " " + d.Chain
	if d.Comment != "" {
		s += ": " + d.Comment
	}
	return s + ")"
}
