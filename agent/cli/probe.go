package cli

import (
	"context"
	"io"
	"strconv"
	"strings"

	"github.com/vpnpass/vpnpass/agent"
	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/diagnose"
)

// runProbe checks a VPN server from the router: the daemon does it when it
// runs (same result), else this process does.
func runProbe(ctx context.Context, o *opts, env *Env) error {
	p := api.ProbeParams{Host: o.args[0], Protocol: o.protocol}
	if p.Protocol == "" {
		p.Protocol = o.proto
	}
	var res api.ProbeResult
	ok, err := callDaemon(ctx, o, api.MethodProbe.Args(&p, &res))
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
	b.WriteString("Probing " + p.Host + " from this router:\n")
	for _, r := range res.Results {
		rtt := ""
		if r.Outcome == "answered" || r.Outcome == "refused" {
			rtt = " in " + strconv.FormatFloat(r.RTTMs, 'f', 1, 64) + " ms"
		}
		b.WriteString("  " + pad(string(r.Protocol), 6) + " " + string(r.Transport) + "/" + pad(strconv.Itoa(r.Port), 5) + " " + pad(string(r.Outcome), 9) + rtt)
		if r.Detail != "" {
			b.WriteString("  (" + r.Detail + ")")
		}
		b.WriteString("\n")
	}
	for _, o := range diagnose.ProbeOutcome {
		b.WriteString(string(o.Outcome) + ": " + o.Text + "\n")
	}
	_, err = io.WriteString(env.Stdout, b.String())
	return err
}
