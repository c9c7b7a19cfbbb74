package nft

import (
	"github.com/google/nftables/expr"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

// fw4Table and fw4Forward name the chain fw4 renders its forward policy in.
const (
	fw4Table   = "fw4"
	fw4Forward = "forward"
)

// forwardChain is a foreign forward base chain with its rules.
type forwardChain struct {
	table  *nftwire.Table
	chain  *nftwire.Chain
	rules  []*nftwire.Rule
	target bool // our allow rules belong here
}

// forwardChains returns every forward base chain of every writable table,
// saying which of them could drop the footprint (and so must carry our allow
// rules). A table whose rules turn out to use iptables' compat expressions
// is iptables-nft's and is left out altogether.
func (s *snapshot) forwardChains(kind netfilter.Kind) ([]forwardChain, error) {
	var out []forwardChain
	for _, t := range s.tables {
		if !s.writable(t) {
			continue
		}
		var fcs []forwardChain
		compat := false
		for _, c := range s.chains[keyOf(t)] {
			if !isForwardBase(c) {
				continue
			}
			rules, err := s.chainRules(t, c.Name)
			if err != nil {
				return nil, err
			}
			if mayBeXtables(t) && hasCompat(rules) {
				compat = true
				break
			}
			target := kind == netfilter.KindFW4 && t.Family == nftwire.FamilyINet && t.Name == fw4Table && c.Name == fw4Forward
			if !target {
				if target, err = s.mayDrop(t, c); err != nil {
					return nil, err
				}
			}
			fcs = append(fcs, forwardChain{table: t, chain: c, rules: rules, target: target})
		}
		if !compat {
			out = append(out, fcs...)
		}
	}
	return out, nil
}

// mayDrop reports whether a base chain can drop or reject a packet: a drop
// policy, or a rule (directly or through jumps and gotos) that ends in drop,
// reject or queue, or a verdict map (whose elements we do not inspect:
// assume the worst). Our own tagged rules are not counted.
func (s *snapshot) mayDrop(t *nftwire.Table, c *nftwire.Chain) (bool, error) {
	if c.Policy != nil && *c.Policy == nftwire.PolicyDrop {
		return true, nil
	}
	return s.chainMayDrop(t, c.Name, map[string]bool{})
}

func (s *snapshot) chainMayDrop(t *nftwire.Table, chain string, seen map[string]bool) (bool, error) {
	if seen[chain] {
		return false, nil
	}
	seen[chain] = true
	rules, err := s.chainRules(t, chain)
	if err != nil {
		return false, err
	}
	for _, r := range rules {
		if _, ours := ruleProto(r); ours {
			continue
		}
		for _, e := range r.Exprs {
			if stops(e) {
				return true, nil
			}
			if v, ok := e.(*expr.Verdict); ok && (v.Kind == expr.VerdictJump || v.Kind == expr.VerdictGoto) {
				if d, err := s.chainMayDrop(t, v.Chain, seen); err != nil || d {
					return d, err
				}
			}
		}
	}
	return false, nil
}

// stops reports expressions that end evaluation with a drop, or may.
func stops(e expr.Any) bool {
	switch e := e.(type) {
	case *expr.Verdict:
		return e.Kind == expr.VerdictDrop
	case *expr.Reject, *expr.Queue:
		return true
	case *expr.Lookup:
		return e.IsDestRegSet && e.DestRegister == 0 // verdict map
	}
	return false
}

// firstStop is the index of the first foreign rule of a chain that may end
// a packet's walk through it (drop, reject, queue, jump, goto, verdict
// map). Our allow rules must all come before it; len(rules) if none.
func firstStop(rules []*nftwire.Rule) int {
	for i, r := range rules {
		if _, ours := ruleProto(r); ours {
			continue
		}
		for _, e := range r.Exprs {
			if v, ok := e.(*expr.Verdict); ok && (v.Kind == expr.VerdictJump || v.Kind == expr.VerdictGoto) || stops(e) {
				return i
			}
		}
	}
	return len(rules)
}
