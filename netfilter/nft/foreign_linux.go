package nft

import (
	"github.com/vpnpass/vpnpass/netfilter/nftwire"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter"
)

// ifnameSet is an anonymous constant set of interface names.
var ifnameSet = nftwire.Set{KeyType: nftwire.TypeIFName, KeyLen: unix.IFNAMSIZ}

// setMaker returns a lookupFunc that creates, in the batch, the anonymous
// constant set of interface names a rule of table t matches against (as nft
// does for `iifname { "a", "b" }`).
func setMaker(b *nftwire.Batch, t *nftwire.Table) lookupFunc {
	return func(names []string) expr.Any {
		keys := make([][]byte, len(names))
		for i, n := range names {
			keys[i] = nftwire.IfnameBytes(n)
		}
		name, id := b.AddSet(byte(t.Family), t.Name, &ifnameSet, keys)
		return &expr.Lookup{SourceRegister: reg1, SetName: name, SetID: id}
	}
}

// queueRule queues one rule of ours; insert puts it at the head of the chain.
func queueRule(b *nftwire.Batch, t *nftwire.Table, chain string, r ruleSpec, insert bool) {
	b.AddRule(byte(t.Family), t.Name, chain, r.exprs(setMaker(b, t)), tagUserData(r.proto), insert)
}

// delRule plans the removal of one rule of ours by handle.
func (p *plan) delRule(t *nftwire.Table, chain string, h existing) {
	handle := h.rule.Handle
	p.add(phaseDelRule, "delete", t, chain, h.proto, h.text, func(b *nftwire.Batch) {
		b.DelRule(byte(t.Family), t.Name, chain, handle)
	})
}

// insertRules plans rules for the head of a foreign chain. They are inserted
// last first, each at the head, so they end up in the order given.
func (p *plan) insertRules(t *nftwire.Table, chain string, specs []ruleSpec) {
	for i, r := range specs {
		var q func(*nftwire.Batch)
		if i == 0 {
			q = func(b *nftwire.Batch) {
				for j := len(specs) - 1; j >= 0; j-- {
					queueRule(b, t, chain, specs[j], true)
				}
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
