package ipt

import (
	"sort"

	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
)

// ownTable describes our share of one table in one family.
type ownTable struct {
	table string
	chain string          // our chain in this table
	specs []spec          // its wanted rules (none: the chain must not exist)
	jumps map[string]spec // parent chain → wanted jump (only when specs exist)
}

// ownTables lays out both tables for one family. The filter jump sits in
// fw3's forwarding_rule when asked and that chain exists, else in FORWARD.
func ownTables(st famState, l layout, fw3 bool) []ownTable {
	filter := ownTable{table: tableFilter, chain: ChainFwd, specs: l.fwd, jumps: map[string]spec{}}
	if len(l.fwd) > 0 {
		parent := "FORWARD"
		if ts := st[tableFilter]; fw3 && ts != nil && ts.names[chainFW3] {
			parent = chainFW3
		}
		filter.jumps[parent] = jumpSpec(tableFilter, parent, ChainFwd)
	}
	raw := ownTable{table: tableRaw, chain: ChainHelper, specs: l.helper, jumps: map[string]spec{}}
	if len(l.helper) > 0 {
		for _, p := range rawParents {
			raw.jumps[p] = jumpSpec(tableRaw, p, ChainHelper)
		}
	}
	return []ownTable{filter, raw}
}

// Phases of a plan, in execution order: a chain is filled before its jump
// appears, and a jump goes before the chain is emptied and removed.
const (
	phNewChain = iota
	phAppend
	phParentDelete
	phInsert
	phChainDelete
	phDelChain
	phases
)

// opGroups collects ops by phase (one append site for all of them).
type opGroups [phases][]op

func (g *opGroups) add(ph int, o op) { addOps(&g[ph], o) }

func (g *opGroups) ordered() []op {
	var out []op
	for _, p := range g {
		addOps(&out, p...)
	}
	return out
}

// diffFamily returns the ops that bring st to l, in execution order, with
// positions computed by replaying them on a copy of the state.
func diffFamily(fam string, st famState, l layout, fw3 bool) []op {
	var g opGroups
	for _, ot := range ownTables(st, l, fw3) {
		ts := st[ot.table]
		if ts == nil {
			ts = &tableState{names: map[string]bool{}, chains: map[string]*ChainRules{}}
		}
		diffOwnChains(&g, fam, ts, ot)
		diffParents(&g, fam, ts, ot)
	}
	ops := g.ordered()
	placeOps(st, ops)
	return ops
}

// diffOwnChains removes our chains that are not wanted and brings the wanted
// one to its rules (as a multiset: our rules never overlap, order is free).
func diffOwnChains(g *opGroups, fam string, ts *tableState, ot ownTable) {
	var names []string
	for n := range ts.chains {
		if isOurChain(n) && (n != ot.chain || len(ot.specs) == 0) {
			slicex.Strings(&names, n)
		}
	}
	sort.StringSlice(names).Sort()
	for _, n := range names {
		for _, r := range ts.chains[n].Rules {
			g.add(phChainDelete, delOp(fam, ot.table, r))
		}
		g.add(phDelChain, op{kind: opDelChain, fam: fam, table: ot.table, chain: n})
	}
	if len(ot.specs) == 0 {
		return
	}
	if !ts.names[ot.chain] {
		g.add(phNewChain, op{kind: opNewChain, fam: fam, table: ot.table, chain: ot.chain})
	}
	have := map[string]int{}
	var installed []*Rule
	if c := ts.chains[ot.chain]; c != nil {
		installed = c.Rules
	}
	for _, r := range installed {
		have[r.Key()]++
	}
	for _, s := range ot.specs {
		k := s.rule().Key()
		if have[k] > 0 {
			have[k]--
			continue
		}
		g.add(phAppend, op{kind: opAppend, fam: fam, table: ot.table, chain: ot.chain, args: s.args, proto: s.proto})
	}
	for _, r := range installed {
		if k := r.Key(); have[k] > 0 {
			have[k]--
			g.add(phChainDelete, delOp(fam, ot.table, r))
		}
	}
}

// diffParents keeps exactly one jump of ours first in each parent that
// should have one, and removes every other tagged rule from the parents.
// A misplaced or duplicated jump is deleted and inserted again: deleting by
// spec removes the first equal rule, so we never delete "the other copy".
func diffParents(g *opGroups, fam string, ts *tableState, ot ownTable) {
	for _, p := range parentsOf(ot.table) {
		want, wanted := ot.jumps[p]
		var tagged []*Rule
		var first *Rule
		if c := ts.chains[p]; c != nil {
			for _, r := range c.Rules {
				if netfilter.IsOurTag(r.Comment) {
					tagged = append(tagged, r)
				}
			}
			if len(c.Rules) > 0 {
				first = c.Rules[0]
			}
		}
		if wanted && len(tagged) == 1 && first == tagged[0] && first.Key() == want.rule().Key() {
			continue
		}
		for _, r := range tagged {
			g.add(phParentDelete, delOp(fam, ot.table, r))
		}
		if wanted {
			g.add(phInsert, op{kind: opInsert, fam: fam, table: ot.table, chain: p, pos: 1, args: want.args})
		}
	}
}

func delOp(fam, table string, r *Rule) op {
	return op{kind: opDelete, fam: fam, table: table, chain: r.Chain, args: r.Args, proto: protoOfTag(r.Comment)}
}

// protoOfTag returns the protocol a tag names, "" for the jump tag.
func protoOfTag(comment string) vpn.Protocol {
	if !netfilter.IsOurTag(comment) {
		return ""
	}
	p, err := vpn.ParseProtocol(comment[len(netfilter.TagPrefix):])
	if err != nil {
		return ""
	}
	return p
}

// placeOps replays ops on a copy of the chains' rule keys and records in
// each delete the position its rule has when the delete runs (the first
// rule equal to it, as the kernel picks).
func placeOps(st famState, ops []op) {
	sim := map[string][]string{}
	for table, ts := range st {
		for n, c := range ts.chains {
			keys := make([]string, len(c.Rules))
			for i, r := range c.Rules {
				keys[i] = r.Key()
			}
			sim[table+"/"+n] = keys
		}
	}
	for i := range ops {
		o := &ops[i]
		id := o.table + "/" + o.chain
		cur := sim[id]
		var k string
		if o.kind >= opAppend { // an op with a rule
			k = parseRule(o.chain, o.args).Key()
		}
		switch o.kind {
		case opNewChain:
			cur = nil
		case opDelChain:
			delete(sim, id)
			continue
		case opAppend:
			slicex.Strings(&cur, k)
			o.pos = len(cur)
		case opInsert:
			at := min(o.pos-1, len(cur))
			cur = append(cur[:at], append([]string{k}, cur[at:]...)...)
		case opDelete:
			o.pos = 1
			for j, x := range cur {
				if x == k {
					o.pos = j + 1
					cur = append(cur[:j:j], cur[j+1:]...)
					break
				}
			}
		}
		sim[id] = cur
	}
}
