package nft

import (
	"github.com/vpnpass/vpnpass/netfilter/nftwire"

	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"

	"github.com/vpnpass/vpnpass/netfilter"
)

// setMaker returns a lookupFunc that creates, in the batch, the anonymous
// constant set of interface names a rule of table t matches against (as nft
// does for `iifname { "a", "b" }`). The first error is kept in *errp.
func setMaker(conn *nftables.Conn, t *nftables.Table, errp *error) lookupFunc {
	return func(names []string) expr.Any {
		set := &nftables.Set{Table: t, Anonymous: true, Constant: true, KeyType: nftables.TypeIFName}
		els := make([]nftables.SetElement, len(names))
		for i, n := range names {
			els[i] = nftables.SetElement{Key: nftwire.IfnameBytes(n)}
		}
		if err := conn.AddSet(set, els); err != nil && *errp == nil {
			*errp = fmt.Errorf("add interface set to %s: %w", t.Name, err)
		}
		return &expr.Lookup{SourceRegister: reg1, SetName: set.Name, SetID: set.ID}
	}
}

// queueRule queues one rule of ours; insert puts it at the head of the chain.
func queueRule(conn *nftables.Conn, t *nftables.Table, chain string, r ruleSpec, insert bool) error {
	var err error
	rule := &nftables.Rule{Table: t, Chain: &nftables.Chain{Name: chain, Table: t},
		Exprs: r.exprs(setMaker(conn, t, &err)), UserData: tagUserData(r.proto)}
	if err != nil {
		return err
	}
	if insert {
		conn.InsertRule(rule)
	} else {
		conn.AddRule(rule)
	}
	return nil
}

// delRule plans the removal of one rule of ours by handle.
func (p *plan) delRule(t *nftables.Table, chain string, h existing) {
	r := &nftables.Rule{Table: t, Chain: &nftables.Chain{Name: chain, Table: t}, Handle: h.rule.Handle}
	p.add(phaseDelRule, "delete", t, chain, h.proto, h.text, func(c *nftables.Conn) error {
		if err := c.DelRule(r); err != nil {
			return fmt.Errorf("delete rule %d from %s %s: %w", h.rule.Handle, t.Name, chain, err)
		}
		return nil
	})
}

// insertRules plans rules for the head of a foreign chain. They are inserted
// last first, each at the head, so they end up in the order given.
func (p *plan) insertRules(t *nftables.Table, chain string, specs []ruleSpec) {
	for i, r := range specs {
		var q func(*nftables.Conn) error
		if i == 0 {
			q = func(c *nftables.Conn) error {
				for j := len(specs) - 1; j >= 0; j-- {
					if err := queueRule(c, t, chain, specs[j], true); err != nil {
						return err
					}
				}
				return nil
			}
		}
		p.add(phaseAddRule, "add", t, chain, r.proto, r.text(), q)
	}
}

// planForeign brings our allow rules in foreign forward base chains to d:
// wanted ones at the head of every chain that may drop, nothing of ours in
// the others. A rule of ours placed after a foreign rule that may end the
// walk (someone inserted ahead of us) no longer protects anything: it is
// replaced at the head.
func (b *Backend) planForeign(s *snapshot, d netfilter.Desired, p *plan) error {
	fcs, err := s.forwardChains(b.cfg.kind)
	if err != nil {
		return err
	}
	for _, fc := range fcs {
		var want []ruleSpec
		if fc.target {
			want = b.cfg.foreignSpecs(d, tableFamily(fc.table))
		}
		have, pos, err := s.readOurs(fc.table, fc.chain.Name, false)
		if err != nil {
			return err
		}
		stop := firstStop(fc.rules)
		keep, missing := diffRules(fc.table.Family, want, have, func(i int) bool { return pos[i] < stop })
		for i, h := range have {
			if !keep[i] {
				p.delRule(fc.table, fc.chain.Name, h)
			}
		}
		if len(missing) > 0 {
			p.insertRules(fc.table, fc.chain.Name, missing)
		}
	}
	return nil
}

// planCleanupForeign removes every tagged rule from every chain of every
// writable table, wherever an earlier process or configuration put it.
func (b *Backend) planCleanupForeign(s *snapshot, p *plan) error {
	for _, t := range s.tables {
		if !s.writable(t) {
			continue
		}
		chains := s.chains[keyOf(t)]
		if mayBeXtables(t) {
			for _, c := range chains {
				rules, err := s.chainRules(t, c.Name)
				if err != nil {
					return err
				}
				if hasCompat(rules) {
					chains = nil // iptables-nft's: the iptables backend cleans it
					break
				}
			}
		}
		for _, c := range chains {
			have, _, err := s.readOurs(t, c.Name, false)
			if err != nil {
				return err
			}
			for _, h := range have {
				p.delRule(t, c.Name, h)
			}
		}
	}
	return nil
}
