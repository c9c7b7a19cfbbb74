package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/vpnpass/vpnpass/agent"
	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/diagnose"
)

// runProbe checks a VPN server from the router: the daemon does it when it
// runs (same result), else this process does.
func runProbe(ctx context.Context, o *opts, env Env) error {
	p := api.ProbeParams{Host: o.args[0], Protocol: o.protocol}
	if p.Protocol == "" {
		p.Protocol = o.proto
	}
	var res api.ProbeResult
	ok, err := callDaemon(ctx, o, func(c *api.Client) error { return api.MethodProbe.Call(ctx, c, &p, &res) })
	if err != nil {
		return err
	}
	if !ok {
		if res, err = agent.RunProbe(ctx, p); err != nil {
			return usageOr(err)
		}
	}
	if o.json {
		return printJSON(env.Stdout, res)
	}
	b := &strings.Builder{}
	fmt.Fprintf(b, "Probing %s from this router:\n", p.Host)
	for _, r := range res.Results {
		rtt := ""
		if r.Outcome == "answered" || r.Outcome == "refused" {
			rtt = fmt.Sprintf(" in %.1f ms", r.RTTMs)
		}
		fmt.Fprintf(b, "  %-6s %s/%-5d %-9s%s", r.Protocol, r.Transport, r.Port, r.Outcome, rtt)
		if r.Detail != "" {
			fmt.Fprintf(b, "  (%s)", r.Detail)
		}
		b.WriteString("\n")
	}
	for _, o := range diagnose.ProbeOutcome {
		fmt.Fprintf(b, "%s: %s\n", o.Outcome, o.Text)
	}
	_, err = io.WriteString(env.Stdout, b.String())
	return err
}
