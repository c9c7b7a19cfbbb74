package nft

import (
	"fmt"
	"strings"

	"github.com/vpnpass/vpnpass/internal/sortx"
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/google/nftables/expr"

	"github.com/vpnpass/vpnpass/netfilter"
)

// Phases order the messages of the one batch: deletions before additions,
// rules before the chains and objects they use, tables around everything.
const (
	phaseDelRule = iota
	phaseDelChain
	phaseDelObj
	phaseDelTable
	phaseAddTable
	phaseAddObj
	phaseAddChain
	phaseAddRule
	phaseFile // after the batch: the fw4 include file
)

// op is one planned change and how to queue it (or, for files, do it).
type op struct {
	change netfilter.Change
	phase  int
	queue  func(*nftwire.Batch)
	file   func() error
}

// plan collects the ops of one Plan.
type plan struct {
	kind netfilter.Kind
	ops  []op
}

// add queues an op and its change in one step (no Change passed by value:
// on mips every copy of the wide struct is code at each call site).
func (p *plan) add(phase int, action string, t *nftwire.Table, chain string, proto vpn.Protocol, rule string, queue func(*nftwire.Batch)) {
	p.ops = append(p.ops, op{phase: phase, queue: queue, change: netfilter.Change{Action: action, Backend: p.kind,
		Family: familyName(t.Family), Table: t.Name, Chain: chain, Protocol: proto, Rule: rule}})
}

// addFile queues a change of a file of ours (the fw4 include, its symlink).
func (p *plan) addFile(action, path, what string, file func() error) {
	p.ops = append(p.ops, op{phase: phaseFile, file: file,
		change: netfilter.Change{Action: action, Backend: p.kind, Family: "file", Table: path, Rule: what}})
}

// sorted returns the ops in batch order, stable within a phase.
func (p *plan) sorted() []op {
	out := append([]op(nil), p.ops...)
	sortx.Stable(len(out), func(i, j int) bool { return out[i].phase < out[j].phase }, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func (p *plan) changes() []netfilter.Change {
	out := []netfilter.Change{}
	for _, o := range p.sorted() {
		out = append(out, o.change)
	}
	return out
}

// existing is a rule of ours read back, with its canonical form.
type existing struct {
	_     [0]func() // not comparable: no generated equality function (binary size)
	rule  *nftwire.Rule
	proto vpn.Protocol
	canon string // "" when the rule could not be read back in full
	text  string
}

// readOurs reads the tagged rules of a chain (all rules, when all is set:
// in our own table every rule is ours). pos is each rule's chain index.
func (s *snapshot) readOurs(t *nftwire.Table, chain string, all bool) ([]existing, []int, error) {
	rules, err := s.chainRules(t, chain)
	if err != nil {
		return nil, nil, err
	}
	var out []existing
	var pos []int
	res := s.resolver(t)
	for i, r := range rules {
		p, ours := ruleProto(r)
		if !ours && !all {
			continue
		}
		canon, cerr := canonical(byte(t.Family), r.Exprs, res)
		if cerr != nil || s.incomplete[r] {
			canon = ""
		}
		out = append(out, existing{rule: r, proto: p, canon: canon, text: describe(r.Exprs, nftwire.RuleComment(r.UserData), res)})
		pos = append(pos, i)
	}
	return out, pos, nil
}

// wantCanon is the tagged canonical form of a spec in a table of family
// fam. Its set lookups carry their members in the set name (see marker).
func wantCanon(fam nftwire.Family, r ruleSpec) string {
	canon, err := canonical(byte(fam), r.exprs(markerLookup), resolveMarker)
	if err != nil {
		// Our own expressions always marshal; a failure here is a bug.
		panic(fmt.Sprintf("canonical form of %q: %v", r.text(), err))
	}
	return r.tag() + "|" + canon
}

// markerLookup stands in for a set that is not created: the members travel
// in the name, which no kernel set can have (it starts with a NUL).
func markerLookup(names []string) expr.Any {
	return &expr.Lookup{SourceRegister: reg1, SetName: "\x00" + strings.Join(names, "\x00")}
}

func resolveMarker(name string) ([]string, error) {
	if !strings.HasPrefix(name, "\x00") {
		return nil, fmt.Errorf("unexpected set %q", name)
	}
	return strings.Split(name[1:], "\x00"), nil
}

func (r ruleSpec) tag() string { return netfilter.Tag(r.proto) }

func (e existing) key() string {
	if e.canon == "" {
		return ""
	}
	return netfilter.Tag(e.proto) + "|" + e.canon
}

// diffRules matches wanted specs against existing rules as multisets.
// keep[i] says whether existing rule i may stay; missing lists the specs
// that must be added.
func diffRules(fam nftwire.Family, want []ruleSpec, have []existing, placed func(i int) bool) (keep []bool, missing []ruleSpec) {
	keep = make([]bool, len(have))
	for _, w := range want {
		k := wantCanon(fam, w)
		found := false
		for i, h := range have {
			if !keep[i] && placed(i) && h.key() == k {
				keep[i], found = true, true
				break
			}
		}
		if !found {
			missing = append(missing, w)
		}
	}
	return keep, missing
}
