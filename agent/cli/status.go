package cli

import (
	"context"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/netfilter"
)

func runStatus(ctx context.Context, o *opts, env *Env) error {
	var st api.Status
	d, err := lookup(ctx, o, env, api.MethodStatus.Args(&api.NoParams{}, &st))
	if d != nil {
		st, err = d.status(ctx)
	}
	if err != nil {
		return err
	}
	return show(o, env, &st, printStatus)
}

func printStatus(w io.Writer, st *api.Status) error {
	b := &strings.Builder{}
	also := ""
	if len(st.Backend.Also) > 0 {
		parts := make([]string, len(st.Backend.Also))
		for i, k := range st.Backend.Also {
			parts[i] = string(k)
		}
		also = " (also hooking forward: " + strings.Join(parts, ", ") + ")"
	}
	b.WriteString("Firewall:    " + string(st.Backend.Kind) + also + "\n")
	b.WriteString("WAN:         " + orDash(st.WAN.WANDevice) + " " + strings.Join(st.WAN.Addresses, " "))
	if st.WAN.Gateway != "" {
		b.WriteString(" via " + st.WAN.Gateway)
	}
	b.WriteString("\nNAT:         " + orDash(string(st.WAN.Code)) + " (" + orDash(string(st.WAN.Class)) + ")")
	if st.Masquerade {
		b.WriteString(", this router masquerades")
	}
	b.WriteString("\n")
	if st.WAN.Message != "" {
		b.WriteString("             " + st.WAN.Message + "\n")
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
		b.WriteString(pad(string(p), 9) + " " + pad(string(ps.Mode), 8) + " " + pad(string(ps.Verdict), 9) + " " +
			pad(orDash(string(worstReplies(ps))), 9) + " " + worstDecider(ps) + drift + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func printHelpers(b *strings.Builder, st *api.Status) {
	names := make([]string, 0, len(st.Helpers))
	for n := range st.Helpers {
		names = append(names, n)
	}
	sort.StringSlice(names).Sort()
	for _, n := range names {
		h := st.Helpers[n]
		line := "Helper " + pad(n+":", 5) + " " + string(h.State)
		if !h.Usable() && h.Package != "" {
			line += " (install " + h.Package + ")"
		}
		if len(h.AssignedBy) > 0 {
			line += ", assigned by " + strings.Join(h.AssignedBy, ", ")
		}
		b.WriteString(line + "\n")
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

// pad left-justifies s in n columns, as fmt's %-Ns does (it counts runes).
func pad(s string, n int) string {
	if k := n - utf8.RuneCountInString(s); k > 0 {
		return s + strings.Repeat(" ", k)
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
