package ipt

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// fakeIPT is an in-memory iptables for plan tests: chains of rule specs,
// with the kernel's rules for -D (first equal rule) and -X (empty chain, no
// reference).
type fakeIPT struct {
	tables map[string]map[string]*fakeChain
}

type fakeChain struct {
	policy string
	rules  [][]string
}

// newFake builds a fake from whole-table `iptables -S` text per table.
func newFake(t *testing.T, tables map[string]string) *fakeIPT {
	t.Helper()
	f := &fakeIPT{tables: map[string]map[string]*fakeChain{}}
	for table, text := range tables {
		chains := map[string]*fakeChain{}
		f.tables[table] = chains
		for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
			toks, err := tokenize(strings.TrimSpace(line))
			if err != nil || len(toks) < 2 {
				t.Fatalf("fixture line %q: %v", line, err)
			}
			switch toks[0] {
			case "-P":
				chains[toks[1]] = &fakeChain{policy: toks[2]}
			case "-N":
				chains[toks[1]] = &fakeChain{}
			case "-A":
				c := chains[toks[1]]
				if c == nil {
					t.Fatalf("fixture: rule before chain: %q", line)
				}
				c.rules = append(c.rules, toks[2:])
			}
		}
	}
	return f
}

func (f *fakeIPT) chain(table, chain string) (*fakeChain, error) {
	c := f.tables[table][chain]
	if c == nil {
		return nil, fmt.Errorf("fake: no chain %s/%s", table, chain)
	}
	return c, nil
}

// chains lists a table's chains as -S does: built-in, then user chains.
func (f *fakeIPT) chains(table string) []string {
	var builtin, user []string
	for n, c := range f.tables[table] {
		if c.policy != "" {
			builtin = append(builtin, n)
		} else {
			user = append(user, n)
		}
	}
	sort.Strings(builtin)
	sort.Strings(user)
	return append(builtin, user...)
}

// ListTable prints the whole table as `iptables -t table -S` does: the -P
// and -N lines, then each chain's rules.
func (f *fakeIPT) ListTable(table string) ([]string, error) {
	names := f.chains(table)
	var out, rules []string
	for _, n := range names {
		c := f.tables[table][n]
		if c.policy != "" {
			out = append(out, "-P "+n+" "+c.policy)
		} else {
			out = append(out, "-N "+n)
		}
		for _, r := range c.rules {
			rules = append(rules, "-A "+n+" "+joinArgs(r))
		}
	}
	return append(out, rules...), nil
}

func (f *fakeIPT) NewChain(table, chain string) error {
	if f.tables[table] == nil {
		f.tables[table] = map[string]*fakeChain{}
	}
	if f.tables[table][chain] != nil {
		return fmt.Errorf("fake: chain %s exists", chain)
	}
	f.tables[table][chain] = &fakeChain{}
	return nil
}

func (f *fakeIPT) DeleteChain(table, chain string) error {
	c, err := f.chain(table, chain)
	if err != nil {
		return err
	}
	if len(c.rules) > 0 {
		return fmt.Errorf("fake: chain %s not empty", chain)
	}
	for _, other := range f.tables[table] {
		for _, r := range other.rules {
			if parseRule("", r).Target == chain {
				return fmt.Errorf("fake: chain %s still referenced", chain)
			}
		}
	}
	delete(f.tables[table], chain)
	return nil
}

func (f *fakeIPT) Append(table, chain string, spec ...string) error {
	c, err := f.chain(table, chain)
	if err != nil {
		return err
	}
	c.rules = append(c.rules, spec)
	return nil
}

func (f *fakeIPT) Insert(table, chain string, pos int, spec ...string) error {
	c, err := f.chain(table, chain)
	if err != nil {
		return err
	}
	if pos < 1 || pos > len(c.rules)+1 {
		return fmt.Errorf("fake: bad position %d", pos)
	}
	c.rules = append(c.rules[:pos-1], append([][]string{spec}, c.rules[pos-1:]...)...)
	return nil
}

func (f *fakeIPT) Delete(table, chain string, spec ...string) error {
	c, err := f.chain(table, chain)
	if err != nil {
		return err
	}
	k := parseRule(chain, spec).Key()
	for i, r := range c.rules {
		if parseRule(chain, r).Key() == k {
			c.rules = append(c.rules[:i:i], c.rules[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("fake: no such rule in %s", chain)
}

func (f *fakeIPT) ClearChain(table, chain string) error {
	c, err := f.chain(table, chain)
	if err != nil {
		return f.NewChain(table, chain)
	}
	c.rules = nil
	return nil
}

// dump renders the fake as sorted -S text, for before/after comparisons.
func (f *fakeIPT) dump() string {
	var b strings.Builder
	var tables []string
	for t := range f.tables {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		lines, _ := f.ListTable(t)
		for _, l := range lines {
			fmt.Fprintf(&b, "%s: %s\n", t, l)
		}
	}
	return b.String()
}
