package ipt

import (
	"strings"

	"github.com/vpnpass/vpnpass/netfilter"
)

// HelperAssignment is one rule reachable from raw PREROUTING or OUTPUT that
// assigns a conntrack helper (`-j CT --helper NAME`).
type HelperAssignment struct {
	_       [0]func()      // not comparable: no equality function is emitted for it
	Helper  string         `json:"helper"` // e.g. "pptp"
	Owner   string         `json:"owner"`  // "vpnpass", "fw3", or the backend kind
	Backend netfilter.Kind `json:"backend"`
	Family  string         `json:"family"` // "iptables" / "ip6tables"
	Table   string         `json:"table"`
	Chain   string         `json:"chain"`
	Handle  uint64         `json:"handle"` // rule number in the chain
	Comment string         `json:"comment,omitempty"`
	Rule    string         `json:"rule"`
}

// helperAssignments collects CT --helper rules reachable from the raw base
// chains of s.
func (s *tableSnap) helperAssignments() []HelperAssignment {
	var out []HelperAssignment
	for _, n := range s.reachable("PREROUTING", "OUTPUT") {
		for i, r := range s.chains[n].Rules {
			if r.Target != "CT" {
				continue
			}
			h := optValue(r.TargetArgs, "--helper")
			if h == "" {
				continue
			}
			out = append(out, HelperAssignment{
				Helper: h, Owner: helperOwner(s.kind, n, r), Backend: s.kind, Family: s.family,
				Table: s.table, Chain: n, Handle: uint64(i + 1), Comment: r.Comment, Rule: r.String(),
			})
		}
	}
	return out
}

// helperOwner tells whose rule it is: ours by chain name or tag; fw3's by
// its "!fw3" comments or its zone helper chains (zone_lan_helper).
func helperOwner(k netfilter.Kind, chain string, r *Rule) string {
	switch {
	case isOurChain(chain) || netfilter.IsOurTag(r.Comment):
		return "vpnpass"
	case strings.HasPrefix(r.Comment, "!fw3"),
		strings.HasPrefix(chain, "zone_") && strings.HasSuffix(chain, "_helper"):
		return string(netfilter.KindFW3)
	}
	return string(k)
}

func optValue(args []string, name string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == name {
			return args[i+1]
		}
	}
	return ""
}

// mayMasquerade says whether some path through chain can reach MASQUERADE or
// SNAT for p; cont says whether evaluation may go on after the chain. Rules
// we cannot evaluate are explored both ways.
func (s *tableSnap) mayMasquerade(chain string, p *netfilter.Packet, depth int) (found, cont bool) {
	c := s.chains[chain]
	if c == nil || depth > maxDepth {
		return false, true
	}
	for _, r := range c.Rules {
		m, _ := matchRule(r, p)
		if m == no {
			continue
		}
		switch tk := s.targetKind(r.Target); {
		case r.Target == "MASQUERADE" || r.Target == "SNAT": // give the packet the router's address
			if m == yes {
				return true, false
			}
			found = true
		case tk == tkChain:
			f, c := s.mayMasquerade(r.Target, p, depth+1)
			found = found || f
			if m == yes && (!c || r.Goto) {
				return found, c
			}
		case tk == tkReturn && m == yes:
			return found, true
		case (tk == tkAccept || tk == tkDrop || tk == tkReject) && m == yes:
			return found, false
		}
	}
	return found, true
}
