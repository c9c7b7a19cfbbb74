package nft

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

var ourTableRef = &nftwire.Table{Family: nftwire.FamilyINet, Name: OurTable}

// hooknum is the hook of the chain (a switch: a map costs init code).
func (c chainSpec) hooknum() nftwire.HookNum {
	switch c.hook {
	case "prerouting":
		return nftwire.HookPrerouting
	case "output":
		return nftwire.HookOutput
	}
	return nftwire.HookForward
}

// base makes the chain a base chain: type filter, policy accept.
func (c chainSpec) base() *nftwire.Hook {
	return &nftwire.Hook{Num: uint32(c.hooknum()), Priority: c.prio}
}

// matches reports whether a chain read back is this base chain.
func (c chainSpec) matches(got *nftwire.Chain) bool {
	return got.Type == nftwire.ChainFilter && got.Hooknum != nil && *got.Hooknum == c.hooknum() &&
		got.Priority != nil && int32(*got.Priority) == c.prio &&
		got.Policy != nil && *got.Policy == nftwire.PolicyAccept
}

func isOurHelper(o object) bool {
	h := o.helper
	return o.name == HelperObject && o.typ == uint32(nftwire.ObjCtHelper) &&
		h.Name == "pptp" && h.L3Proto == unix.NFPROTO_IPV4 && h.L4Proto == unix.IPPROTO_TCP
}

// planOurs brings table inet vpnpass to want: created when needed, removed
// when empty, otherwise changed rule by rule. A chain or object of ours with
// the wrong definition cannot be altered in place: then the table is
// recreated, still within the one batch.
func (b *Backend) planOurs(s *snapshot, want ourState, p *plan) error {
	t := s.table(nftwire.FamilyINet, OurTable)
	switch {
	case t == nil && want.empty():
		return nil
	case t == nil:
		p.addOurTable(want)
		return nil
	case want.empty():
		return p.delOurTable(s, t)
	}
	objs, err := dumpObjects(s.netns, t)
	if err != nil {
		return fmt.Errorf("list objects of table inet %s: %w", OurTable, err)
	}
	if !structureOK(s, t, objs, want) {
		if err := p.delOurTable(s, t); err != nil {
			return err
		}
		p.addOurTable(want)
		return nil
	}
	p.planOurObjects(t, objs, want)
	return p.planOurChains(s, t, want)
}

// structureOK: every wanted chain or object that exists has the wanted form.
func structureOK(s *snapshot, t *nftwire.Table, objs []object, want ourState) bool {
	for _, c := range want.chains {
		if got := s.chain(t, c.name); got != nil && !c.matches(got) {
			return false
		}
	}
	for _, o := range objs {
		if o.name == HelperObject && !isOurHelper(o) {
			return false
		}
	}
	return true
}

func (p *plan) planOurObjects(t *nftwire.Table, objs []object, want ourState) {
	have := false
	for _, o := range objs {
		if o.name == HelperObject && want.helper {
			have = true
			continue
		}
		name, typ := o.name, o.typ
		p.add(phaseDelObj, "delete", t, "", "", "object "+o.name, func(b *nftwire.Batch) {
			b.DelObj(byte(t.Family), t.Name, name, typ)
		})
	}
	if want.helper && !have {
		p.addHelper(t)
	}
}

func (p *plan) addHelper(t *nftwire.Table) {
	p.add(phaseAddObj, "add", t, "", "pptp", helperObjectText, func(b *nftwire.Batch) {
		b.AddCtHelper(byte(t.Family), t.Name, HelperObject, "pptp", unix.NFPROTO_IPV4, unix.IPPROTO_TCP)
	})
}

func (p *plan) planOurChains(s *snapshot, t *nftwire.Table, want ourState) error {
	wanted := map[string]bool{}
	for _, c := range want.chains {
		wanted[c.name] = true
		if s.chain(t, c.name) == nil {
			p.addOurChain(t, c, want.rules[c.name])
			continue
		}
		have, _, err := s.readOurs(t, c.name, true)
		if err != nil {
			return err
		}
		keep, missing := diffRules(t.Family, want.rules[c.name], have, func(int) bool { return true })
		for i, h := range have {
			if !keep[i] {
				p.delRule(t, c.name, h)
			}
		}
		for _, r := range missing {
			p.appendRule(t, c.name, r)
		}
	}
	for _, c := range s.chains[keyOf(t)] {
		if !wanted[c.Name] {
			if err := p.delOurChain(s, t, c.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *plan) appendRule(t *nftwire.Table, chain string, r ruleSpec) {
	p.add(phaseAddRule, "add", t, chain, r.proto, r.text(), func(b *nftwire.Batch) {
		queueRule(b, t, chain, r, false)
	})
}

func (p *plan) addOurChain(t *nftwire.Table, c chainSpec, rules []ruleSpec) {
	p.add(phaseAddChain, "add", t, c.name, "", c.text(), func(b *nftwire.Batch) {
		b.AddChain(byte(t.Family), t.Name, c.name, c.base())
	})
	for _, r := range rules {
		p.appendRule(t, c.name, r)
	}
}

// delOurChain removes a chain of ours, reporting each rule it held.
func (p *plan) delOurChain(s *snapshot, t *nftwire.Table, name string) error {
	have, _, err := s.readOurs(t, name, true)
	if err != nil {
		return err
	}
	for _, h := range have {
		p.add(phaseDelRule, "delete", t, name, h.proto, h.text, nil)
	}
	p.add(phaseDelChain, "delete", t, name, "", "chain "+name, func(b *nftwire.Batch) {
		b.FlushChain(byte(t.Family), t.Name, name)
		b.DelChain(byte(t.Family), t.Name, name)
	})
	return nil
}

func (p *plan) addOurTable(want ourState) {
	t := ourTableRef
	p.add(phaseAddTable, "add", t, "", "", "table inet "+OurTable, func(b *nftwire.Batch) {
		b.AddTable(byte(t.Family), t.Name)
	})
	if want.helper {
		p.addHelper(t)
	}
	for _, c := range want.chains {
		p.addOurChain(t, c, want.rules[c.name])
	}
}

// delOurTable removes table inet vpnpass with everything in it, reporting
// each rule so a dry run shows what stops.
func (p *plan) delOurTable(s *snapshot, t *nftwire.Table) error {
	for _, c := range s.chains[keyOf(t)] {
		have, _, err := s.readOurs(t, c.Name, true)
		if err != nil {
			return err
		}
		for _, h := range have {
			p.add(phaseDelRule, "delete", t, c.Name, h.proto, h.text, nil)
		}
	}
	p.add(phaseDelTable, "delete", t, "", "", "table inet "+OurTable, func(b *nftwire.Batch) {
		b.DelTable(byte(t.Family), t.Name)
	})
	return nil
}
