package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/vpnpass/vpnpass/agent"
	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/internal/tstamp"
)

// runDoctor prints the current findings, newest first: message, then advice.
func runDoctor(ctx context.Context, o *opts, env *Env) error {
	var res api.DoctorResult
	d, err := lookup(ctx, o, env, api.MethodDoctor.Args(&api.DoctorParams{Host: o.host}, &res))
	if d != nil {
		res, err = agent.DoctorSnapshot(ctx, d.cfg, d.router, d.paths, o.host)
	}
	if err != nil {
		return err
	}
	return show(o, env, &res, printDoctor)
}

func printDoctor(w io.Writer, res *api.DoctorResult) error {
	b := &strings.Builder{}
	if res.Source == "snapshot" {
		b.WriteString("(No vpnpass daemon running: judged from one look at the connection table right now.)\n\n")
	}
	if len(res.Findings) == 0 && len(res.Sessions) == 0 {
		b.WriteString("No VPN connections seen from the LAN yet.\n")
	}
	for _, f := range res.Findings {
		who := f.Host
		if f.HostName != "" {
			who = f.HostName + " (" + f.Host + ")"
		}
		b.WriteString("[" + string(f.Severity) + "] " + string(f.Code) + "  " + who + " → " + f.Peer + "  " + f.LastSeen.Local().Format("15:04:05") + "\n")
		b.WriteString("  " + f.Message + "\n")
		if f.Advice != "" {
			b.WriteString("  What to do: " + f.Advice + "\n")
		}
		if p := proofLine(f.Params); p != "" {
			b.WriteString("  Seen: " + p + "\n")
		}
		b.WriteString("\n")
	}
	printInProgress(b, res)
	_, err := io.WriteString(w, b.String())
	return err
}

// proofLine renders what proves a working session (vpn-ok's params): the
// elements that answered, since when, and the packets each way; "" when
// the finding has no such params.
func proofLine(p map[string]any) string {
	parts, _ := p["answered"].([]string)       // a direct look keeps Go values
	if list, ok := p["answered"].([]any); ok { // decoded from the API
		for _, v := range list {
			parts = append(parts, fmt.Sprint(v))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	out := "answered " + strings.Join(parts, ", ")
	if t, err := tstamp.ParseRFC3339(fmt.Sprint(p["since"])); err == nil {
		out += " since " + t.Local().Format("15:04:05")
	}
	out += fmt.Sprintf("; %v packets out, %v in", p["packets_out"], p["packets_in"])
	if p["offloaded"] == true {
		out += " (flow offloading: counted by the flowtable)"
	}
	if p["live"] == true {
		out += "; in use now"
	}
	return out
}

// printInProgress lists sessions not judged yet: a working connection is
// reported as soon as data flows both ways, a failing one once it has been
// quiet for 30 s or has ended.
func printInProgress(b *strings.Builder, res *api.DoctorResult) {
	judged := map[string]bool{}
	for _, f := range res.Findings {
		judged[string(f.Protocol)+" "+f.Host+" "+f.Peer] = true
	}
	first := true
	for _, s := range res.Sessions {
		if judged[string(s.Protocol)+" "+s.Host+" "+s.Peer] {
			continue
		}
		if first {
			b.WriteString("In progress (said to work once data flows both ways; a failure is judged once quiet for 30 s or ended):\n")
			first = false
		}
		b.WriteString("  " + string(s.Protocol) + "  " + s.Host + " → " + s.Peer + "  " + string(s.Phase) + ", since " + s.FirstSeen.Local().Format("15:04:05") + "\n")
	}
}
