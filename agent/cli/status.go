package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/vpnpass/vpnpass/agent"
)

func runStatus(_ context.Context, o *opts, env Env) error {
	st, err := agent.CollectStatus(agent.DefaultSources())
	if err != nil {
		return err
	}
	if o.json {
		return printJSON(env.Stdout, st)
	}
	return printStatus(env.Stdout, st)
}

func printStatus(w io.Writer, st agent.Status) error {
	b := &strings.Builder{}
	also := ""
	if len(st.Backend.Also) > 0 {
		parts := make([]string, len(st.Backend.Also))
		for i, k := range st.Backend.Also {
			parts[i] = string(k)
		}
		also = " (also hooking forward: " + strings.Join(parts, ", ") + ")"
	}
	fmt.Fprintf(b, "Firewall:     %s%s\n", st.Backend.Kind, also)
	names := make([]string, 0, len(st.Helpers))
	for n := range st.Helpers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h := st.Helpers[n]
		line := fmt.Sprintf("Helper %-5s  %s", n+":", h.State)
		if !h.Usable() && h.Package != "" {
			line += " (install " + h.Package + ")"
		}
		if len(h.AssignedBy) > 0 {
			line += ", assigned by " + strings.Join(h.AssignedBy, ", ")
		}
		fmt.Fprintln(b, line)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
