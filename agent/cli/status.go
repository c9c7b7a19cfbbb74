package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/netfilter"
)

func runStatus(ctx context.Context, o *opts, env Env) error {
	var st api.Status
	err := lookup(ctx, o, env, func(c *api.Client) error {
		return api.MethodStatus.Call(ctx, c, &api.NoParams{}, &st)
	}, func(d *direct) (err error) {
		st, err = d.status(ctx)
		return err
	})
	if err != nil {
		return err
	}
	return show(o, env, st, printStatus)
}

func printStatus(w io.Writer, st api.Status) error {
	b := &strings.Builder{}
	also := ""
	if len(st.Backend.Also) > 0 {
		parts := make([]string, len(st.Backend.Also))
		for i, k := range st.Backend.Also {
			parts[i] = string(k)
		}
		also = " (also hooking forward: " + strings.Join(parts, ", ") + ")"
	}
	fmt.Fprintf(b, "Firewall:    %s%s\n", st.Backend.Kind, also)
	fmt.Fprintf(b, "WAN:         %s %s", orDash(st.WAN.WANDevice), strings.Join(st.WAN.Addresses, " "))
	if st.WAN.Gateway != "" {
		fmt.Fprintf(b, " via %s", st.WAN.Gateway)
	}
	fmt.Fprintf(b, "\nNAT:         %s (%s)", orDash(string(st.WAN.Code)), orDash(string(st.WAN.Class)))
	if st.Masquerade {
		b.WriteString(", this router masquerades")
	}
	b.WriteString("\n")
	if st.WAN.Message != "" {
		fmt.Fprintf(b, "             %s\n", st.WAN.Message)
	}
	printHelpers(b, st)
	b.WriteString("\nProtocol  Mode     LAN→WAN   Answers   Decided by\n")
	for _, p := range vpn.Toggled {
		ps, ok := st.Protocols[p]
		if !ok {
			continue
		}
		drift := ""
		if ps.Drift {
			drift = "  (rules not as configured: drift)"
		}
		fmt.Fprintf(b, "%-9s %-8s %-9s %-9s %s%s\n", p, ps.Mode, ps.Verdict, orDash(string(worstReplies(ps))), worstDecider(ps), drift)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func printHelpers(b *strings.Builder, st api.Status) {
	names := make([]string, 0, len(st.Helpers))
	for n := range st.Helpers {
		names = append(names, n)
	}
	sort.StringSlice(names).Sort()
	for _, n := range names {
		h := st.Helpers[n]
		line := fmt.Sprintf("Helper %-5s %s", n+":", h.State)
		if !h.Usable() && h.Package != "" {
			line += " (install " + h.Package + ")"
		}
		if len(h.AssignedBy) > 0 {
			line += ", assigned by " + strings.Join(h.AssignedBy, ", ")
		}
		fmt.Fprintln(b, line)
	}
}

// worstDecider names what decides the protocol's (worst IPv4) verdict.
func worstDecider(ps netfilter.ProtoStatus) string {
	for _, e := range ps.Elements {
		if e.Family == vpn.IPv4 && e.Verdict == ps.Verdict && e.DecidedBy != nil {
			return e.Match + ":" + decider(e.DecidedBy)
		}
	}
	return ""
}

// worstReplies is the worst verdict the server's answers get (IPv4).
func worstReplies(ps netfilter.ProtoStatus) netfilter.Verdict {
	var v netfilter.Verdict
	for _, e := range ps.Elements {
		if e.Family == vpn.IPv4 && e.Replies != "" {
			v = netfilter.Worst(v, e.Replies)
		}
	}
	return v
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
