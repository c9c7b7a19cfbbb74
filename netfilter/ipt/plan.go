package ipt

import (
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
)

// runner is the part of *Tool this package uses, so the
// plan logic is testable without a kernel.
type runner interface {
	ListTable(table string) ([]string, error)
	NewChain(table, chain string) error
	DeleteChain(table, chain string) error
	Append(table, chain string, rulespec ...string) error
	Insert(table, chain string, pos int, rulespec ...string) error
	Delete(table, chain string, rulespec ...string) error
}

type opKind int

const (
	opNewChain opKind = iota
	opDelChain
	opAppend
	opInsert
	opDelete
)

// op is one iptables call of a plan. For opInsert and opDelete, pos is the
// 1-based position the rule takes / had when the op runs in plan order: a
// delete is undone by inserting the rule back there.
type op struct {
	kind         opKind
	fam          string // "iptables" or "ip6tables"
	table, chain string
	pos          int
	args         []string
	proto        vpn.Protocol
}

// addOps appends v to *s: one call instead of append's inline code at
// each site (see internal/slicex).
func addOps(s *[]op, v ...op) { *s = append(*s, v...) }

// opVerbs spell each kind as a Change's rule starts (a delete shows the
// rule deleted, as -A).
var opVerbs = [...]string{opNewChain: "-N ", opDelChain: "-X ", opAppend: "-A ", opInsert: "-I ", opDelete: "-A "}

func (o *op) change(k netfilter.Kind) netfilter.Change {
	c := netfilter.Change{Action: "add", Backend: k, Family: o.fam, Table: o.table, Chain: o.chain, Protocol: o.proto}
	if o.kind == opDelChain || o.kind == opDelete {
		c.Action = "delete"
	}
	c.Rule = opVerbs[o.kind] + o.chain
	if o.kind == opInsert {
		c.Rule += " " + strconv.Itoa(o.pos)
	}
	if o.kind >= opAppend {
		c.Rule += " " + joinArgs(o.args)
	}
	return c
}

// inverse is the op that undoes o (for rollback).
func (o op) inverse() op {
	inv := o
	switch o.kind {
	case opNewChain:
		inv.kind = opDelChain
	case opDelChain:
		inv.kind = opNewChain
	case opAppend, opInsert:
		inv.kind = opDelete
	case opDelete:
		inv.kind = opInsert
	}
	return inv
}

func (o op) run(r runner) error {
	var err error
	switch o.kind {
	case opNewChain:
		err = r.NewChain(o.table, o.chain)
	case opDelChain:
		err = r.DeleteChain(o.table, o.chain)
	case opAppend:
		err = r.Append(o.table, o.chain, o.args...)
	case opInsert:
		err = r.Insert(o.table, o.chain, o.pos, o.args...)
	case opDelete:
		err = r.Delete(o.table, o.chain, o.args...)
	}
	if err != nil {
		c := o.change("")
		return netfilter.Wrap(o.fam+" "+o.table+": "+c.Action+" "+c.Rule, err)
	}
	return nil
}

// tableState is what we read of one table: which chains exist and the
// rules of those that matter to us (parents of our jumps, our own chains).
type tableState struct {
	present bool                   // false: a legacy table not instantiated
	names   map[string]bool        // every chain of the table
	chains  map[string]*ChainRules // chains read
}

// famState is the state of one family, by table.
type famState map[string]*tableState

// Where our jumps can sit, per table (see parentsOf).
var (
	filterParents = []string{"FORWARD", chainFW3}
	rawParents    = []string{"PREROUTING", "OUTPUT"}
)

// parentsOf lists the chains where our jumps can sit in table.
func parentsOf(table string) []string {
	switch table {
	case tableFilter:
		return filterParents
	case tableRaw:
		return rawParents
	}
	return nil
}

func isOurChain(name string) bool { return strings.HasPrefix(name, netfilter.TablePrefix) }

// readTable reads one table's chains that matter to us.
func readTable(r runner, table string, present bool) (*tableState, error) {
	ts := &tableState{present: present, names: map[string]bool{}, chains: map[string]*ChainRules{}}
	if !present {
		return ts, nil
	}
	tl, err := listTable(r, table)
	if err != nil {
		return nil, err
	}
	for _, n := range tl.names {
		ts.names[n] = true
		if !isOurChain(n) && !contains(parentsOf(table), n) {
			continue
		}
		if ts.chains[n], err = tl.chain(table, n); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

// tableLines is one `iptables -t T -S` listing: the chains in listing order
// (their -P and -N lines come before any rule) and each chain's lines. One
// exec per table, not one more per chain read.
type tableLines struct {
	names []string
	lines map[string][]string
}

// listTable lists a whole table and sorts its lines by chain.
func listTable(r runner, table string) (*tableLines, error) {
	all, err := r.ListTable(table)
	if err != nil {
		return nil, netfilter.Wrap("list chains of "+table, err)
	}
	tl := &tableLines{lines: map[string][]string{}}
	for _, l := range all {
		t := strings.TrimSpace(l)
		if t == "" || t[0] == '#' {
			continue
		}
		f := strings.Fields(t)
		if len(f) < 2 || (f[0] != "-P" && f[0] != "-N" && f[0] != "-A") {
			return nil, errors.New("list " + table + ": unexpected line " + strconv.Quote(t))
		}
		if f[0] != "-A" && tl.lines[f[1]] == nil {
			slicex.Strings(&tl.names, f[1])
		}
		tl.lines[f[1]] = append(tl.lines[f[1]], l)
	}
	return tl, nil
}

// has says whether the table has the chain.
func (tl *tableLines) has(name string) bool { return tl.lines[name] != nil }

// chain parses one chain of the listing.
func (tl *tableLines) chain(table, name string) (*ChainRules, error) {
	c, err := parseChain(name, tl.lines[name])
	if err != nil {
		return nil, netfilter.Wrap("read "+table+" "+name, err)
	}
	return c, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ownView is a canonical text of our share of a family's state: our chains
// with their rules, and our tagged rules in other chains with their
// positions. Rollback compares it before and after.
func ownView(st famState) string {
	var lines []string
	for table, ts := range st {
		for n := range ts.names {
			if isOurChain(n) {
				slicex.Strings(&lines, table+" chain "+n)
			}
		}
		for n, c := range ts.chains {
			for i, r := range c.Rules {
				if isOurChain(n) || netfilter.IsOurTag(r.Comment) {
					slicex.Strings(&lines, table+" "+n+" "+strconv.Itoa(i+1)+" "+r.Key())
				}
			}
		}
	}
	sort.StringSlice(lines).Sort()
	return strings.Join(lines, "\n")
}
