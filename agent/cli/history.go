package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vpnpass/vpnpass/agent"
	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/agent/config"
	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/agent/wan"
)

// runHistory prints events newest first. Without a daemon it opens the file
// read-only (the daemon holds bbolt's lock while it runs).
func runHistory(ctx context.Context, o *opts, env *Env) error {
	p := api.HistoryParams{Since: o.since, Kind: o.kind, Limit: o.limit, Until: o.until, Protocol: o.protocol, Before: o.before}
	f, err := agent.HistoryFilter(p)
	if err != nil {
		return usageError{err.Error()}
	}
	var res api.HistoryResult
	ok, err := callDaemon(ctx, o, api.MethodHistory.Args(&p, &res))
	if err != nil {
		return err
	}
	if !ok {
		cfg, _, _ := config.Load(o.config)
		s, err := history.OpenReadOnly(cfg.HistoryPath)
		if err != nil {
			return fmt.Errorf("read history %s: %w", cfg.HistoryPath, err)
		}
		res.Events, err = s.Query(f)
		s.Close()
		if err != nil {
			return err
		}
	}
	if res.Events == nil {
		res.Events = []history.Event{}
	}
	if o.json {
		return printJSON(env.Stdout, res)
	}
	return printHistory(env.Stdout, res.Events)
}

func printHistory(w io.Writer, evs []history.Event) error {
	b := &strings.Builder{}
	if len(evs) == 0 {
		b.WriteString("No events.\n")
	}
	for _, e := range evs {
		who := ""
		if e.Protocol != "" {
			who += " [" + e.Protocol + "]"
		}
		if e.Host != "" {
			who += " " + e.Host
		}
		if e.Peer != "" {
			who += " → " + e.Peer
		}
		b.WriteString(e.Time.Local().Format(time.DateTime) + "  " + pad(string(e.Severity), 8) + " " + pad(e.Kind, 26) + who + "  " + e.Message + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// runNat prints the WAN / double-NAT verdict.
func runNat(ctx context.Context, o *opts, env *Env) error {
	var n wan.Nat
	d, err := lookup(ctx, o, env, api.MethodNat.Args(&api.NatParams{Probe: o.probe}, &n))
	if d != nil {
		n, err = agent.LiveSources(d.cfg, d.paths.Network).WAN(ctx, o.probe)
	}
	if err != nil {
		return err
	}
	return show(o, env, &n, printNat)
}

func printNat(w io.Writer, n *wan.Nat) error {
	b := &strings.Builder{}
	b.WriteString("WAN:      " + orDash(n.WANDevice) + " " + strings.Join(n.Addresses, " "))
	if n.Gateway != "" {
		b.WriteString(" via " + n.Gateway)
	}
	b.WriteString("\nVerdict:  " + orDash(string(n.Code)) + " (" + orDash(string(n.Class)) + ")")
	if len(n.ConfirmedBy) > 0 {
		b.WriteString(", confirmed by " + strings.Join(n.ConfirmedBy, ", "))
	}
	b.WriteString("\n")
	if n.PublicAddress != "" {
		b.WriteString("Public:   " + n.PublicAddress + "\n")
	}
	if n.Upstream.Address != "" || n.Upstream.Model != "" {
		b.WriteString("Upstream: " + strings.TrimSpace(n.Upstream.Model+" "+n.Upstream.Address) + "\n")
	}
	b.WriteString("\n" + n.Message + "\n")
	if n.Advice != "" {
		b.WriteString("What to do: " + n.Advice + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
