package nft

import (
	"github.com/vpnpass/vpnpass/netfilter/nftwire"

	"github.com/vpnpass/vpnpass/netfilter"

	"fmt"
	"strings"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// tableKey names a table: nft table names are unique per family.
type tableKey struct {
	fam  nftwire.Family
	name string
}

type chainKey struct {
	tableKey
	chain string
}

type setKey struct {
	tableKey
	set string
}

// snapshot is one read of the ruleset over netlink. Rules and sets are read
// lazily, each at most once per snapshot.
type snapshot struct {
	netns  int // of the backend's connection
	tables []*nftwire.Table
	chains map[tableKey][]*nftwire.Chain
	rules  map[chainKey][]*nftwire.Rule
	elems  map[setKey][]string
	// incomplete marks rules read back with an expression left out.
	incomplete map[*nftwire.Rule]bool
}

// readSnapshot lists the tables and chains of namespace netns with our own
// dumps (nftwire): google/nftables' List* and GetRules linked its whole
// decoding (issue 16).
func readSnapshot(netns int) (*snapshot, error) {
	tables, err := nftwire.Tables(netns, unix.NFPROTO_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	chains, err := nftwire.Chains(netns, unix.NFPROTO_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("list chains: %w", err)
	}
	s := &snapshot{netns: netns, tables: tables, chains: map[tableKey][]*nftwire.Chain{},
		rules: map[chainKey][]*nftwire.Rule{}, elems: map[setKey][]string{}, incomplete: map[*nftwire.Rule]bool{}}
	for _, c := range chains {
		k := keyOf(c.Table)
		s.chains[k] = append(s.chains[k], c)
	}
	return s, nil
}

func keyOf(t *nftwire.Table) tableKey { return tableKey{t.Family, t.Name} }

func (s *snapshot) table(fam nftwire.Family, name string) *nftwire.Table {
	for _, t := range s.tables {
		if t.Family == fam && t.Name == name {
			return t
		}
	}
	return nil
}

// chain finds a chain of table t by name (nil if absent).
func (s *snapshot) chain(t *nftwire.Table, name string) *nftwire.Chain {
	for _, c := range s.chains[keyOf(t)] {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// chainRules returns the rules of a chain, in chain order.
func (s *snapshot) chainRules(t *nftwire.Table, chain string) ([]*nftwire.Rule, error) {
	k := chainKey{keyOf(t), chain}
	if r, ok := s.rules[k]; ok {
		return r, nil
	}
	r, incomplete, err := nftwire.Rules(s.netns, t, chain)
	if err != nil {
		return nil, fmt.Errorf("list rules of %s %s %s: %w", familyName(t.Family), t.Name, chain, err)
	}
	for x := range incomplete {
		s.incomplete[x] = true
	}
	s.rules[k] = r
	return r, nil
}

// resolver returns a setResolver for the lookups of rules in table t. The
// elements are read by the set's name alone (the kernel answers ENOENT for
// a set that is not there): listing the table's sets first would link
// google/nftables' whole set decoder for nothing (issue 16).
func (s *snapshot) resolver(t *nftwire.Table) setResolver {
	return func(name string) ([]string, error) {
		k := setKey{keyOf(t), name}
		if names, ok := s.elems[k]; ok {
			return names, nil
		}
		els, err := ReadSetElements(s.netns, t, name)
		if err != nil {
			return nil, fmt.Errorf("list elements of set %s in %s %s: %w", name, familyName(t.Family), t.Name, err)
		}
		names := make([]string, 0, len(els))
		for _, e := range els {
			names = append(names, nftwire.IfnameString(e.Key))
		}
		s.elems[k] = names
		return names, nil
	}
}

// familyName spells a table family as nft does.
func familyName(f nftwire.Family) string { return netfilter.NFTFamilyName(uint8(f)) }

// tableOwnerFlag is NFT_TABLE_F_OWNER: the table belongs to the netlink
// socket that created it and nobody else may change it.
const tableOwnerFlag = 0x2

// xtablesName reports the names of the tables iptables-nft creates.
func xtablesName(name string) bool {
	return oneOf(name, "filter", "nat", "mangle", "raw", "security")
}

// xtablesChain reports the names of iptables' built-in chains.
func xtablesChain(name string) bool {
	return oneOf(name, "INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING")
}

// oneOf reports whether s is one of set (a loop: a map literal or a string
// switch costs more code for a handful of names).
func oneOf(s string, set ...string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}

// xtablesByName reports tables that iptables-nft manages, judged by their
// names and their built-in chains. Such tables belong to the iptables
// backend: we never edit them over raw netlink.
func (s *snapshot) xtablesByName(t *nftwire.Table) bool {
	if !mayBeXtables(t) {
		return false
	}
	for _, c := range s.chains[keyOf(t)] {
		if xtablesChain(c.Name) {
			return true
		}
	}
	return false
}

func mayBeXtables(t *nftwire.Table) bool {
	switch t.Family {
	case nftwire.FamilyIPv4, nftwire.FamilyIPv6, nftwire.FamilyBridge, nftwire.FamilyARP:
		return xtablesName(t.Name)
	}
	return false
}

// hasCompat reports rules using iptables' compat match/target expressions.
func hasCompat(rules []*nftwire.Rule) bool {
	for _, r := range rules {
		for _, e := range r.Exprs {
			switch e.(type) {
			case *expr.Match, *expr.Target:
				return true
			}
		}
	}
	return false
}

// writable reports tables we may put rules into or remove ours from: not
// ours (our table is handled on its own), not iptables-nft's, not owned by
// another process, and of a family that routes.
func (s *snapshot) writable(t *nftwire.Table) bool {
	if strings.HasPrefix(t.Name, OurTable) || t.Flags&tableOwnerFlag != 0 || s.xtablesByName(t) {
		return false
	}
	switch t.Family {
	case nftwire.FamilyINet, nftwire.FamilyIPv4, nftwire.FamilyIPv6:
		return true
	}
	return false
}

// isForwardBase reports a base chain on the forward hook.
func isForwardBase(c *nftwire.Chain) bool {
	return c.Hooknum != nil && *c.Hooknum == unix.NF_INET_FORWARD && c.Type == nftwire.ChainFilter
}

func tableFamily(t *nftwire.Table) family {
	switch t.Family {
	case nftwire.FamilyIPv4:
		return famIP
	case nftwire.FamilyIPv6:
		return famIP6
	}
	return famInet
}
