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
func runHistory(ctx context.Context, o *opts, env Env) error {
	p := api.HistoryParams{Since: o.since, Kind: o.kind, Limit: o.limit, Until: o.until, Protocol: o.protocol, Before: o.before}
	f, err := agent.HistoryFilter(p)
	if err != nil {
		return usageError{err.Error()}
	}
	var res api.HistoryResult
	ok, err := callDaemon(ctx, o, func(c *api.Client) error { return api.MethodHistory.Call(ctx, c, &p, &res) })
	if err != nil {
		return err
	}
	if !ok {
		cfg, _, _ := config.Load(o.config)
		s, err := history.OpenReadOnly(cfg.HistoryPath)
		if err != nil {
			return fmt.Errorf("read history %s: %w", cfg.HistoryPath, err)
		}
		defer s.Close()
		if res.Events, err = s.Query(f); err != nil {
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
		fmt.Fprintf(b, "%s  %-8s %-26s%s  %s\n", e.Time.Local().Format(time.DateTime), e.Severity, e.Kind, who, e.Message)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// runNat prints the WAN / double-NAT verdict.
func runNat(ctx context.Context, o *opts, env Env) error {
	var n wan.Nat
	err := lookup(ctx, o, env, func(c *api.Client) error {
		return api.MethodNat.Call(ctx, c, &api.NatParams{Probe: o.probe}, &n)
	}, func(d *direct) (err error) {
		n, err = agent.LiveSources(d.cfg, d.paths.Network).WAN(ctx, o.probe)
		return err
	})
	if err != nil {
		return err
	}
	return show(o, env, n, printNat)
}

func printNat(w io.Writer, n wan.Nat) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "WAN:      %s %s", orDash(n.WANDevice), strings.Join(n.Addresses, " "))
	if n.Gateway != "" {
		fmt.Fprintf(b, " via %s", n.Gateway)
	}
	fmt.Fprintf(b, "\nVerdict:  %s (%s)", orDash(string(n.Code)), orDash(string(n.Class)))
	if len(n.ConfirmedBy) > 0 {
		fmt.Fprintf(b, ", confirmed by %s", strings.Join(n.ConfirmedBy, ", "))
	}
	b.WriteString("\n")
	if n.PublicAddress != "" {
		fmt.Fprintf(b, "Public:   %s\n", n.PublicAddress)
	}
	if n.Upstream.Address != "" || n.Upstream.Model != "" {
		fmt.Fprintf(b, "Upstream: %s\n", strings.TrimSpace(n.Upstream.Model+" "+n.Upstream.Address))
	}
	fmt.Fprintf(b, "\n%s\n", n.Message)
	if n.Advice != "" {
		fmt.Fprintf(b, "What to do: %s\n", n.Advice)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
