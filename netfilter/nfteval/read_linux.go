package nfteval

import (
	"errors"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

// maxReadTries bounds the retries when the ruleset changes under a read.
const maxReadTries = 5

// Read takes one consistent snapshot of the ruleset in network namespace
// netns (an open fd; 0: the calling thread's), with our own decoders (nftwire, and this package's for what
// only the evaluator reads), which keep what google/nftables would drop or
// misread. The
// ruleset generation is compared before and after; a read that raced a
// transaction is repeated.
func Read(netns int) (*Ruleset, error) {
	w, err := openWire(netns, wireBuffer)
	if err != nil {
		return nil, netfilter.Wrap("read nftables ruleset: open netlink", err)
	}
	defer w.close()
	for try := 0; try < maxReadTries; try++ {
		before, err := w.generation()
		if err != nil {
			return nil, netfilter.Wrap("read nftables ruleset: generation", err)
		}
		rs, err := readOnce(netns, w)
		if err != nil {
			return nil, netfilter.Wrap("read nftables ruleset", err)
		}
		after, err := w.generation()
		if err != nil {
			return nil, netfilter.Wrap("read nftables ruleset: generation", err)
		}
		if before == after {
			rs.Generation = after
			rs.index()
			return rs, nil
		}
	}
	return nil, errors.New("read nftables ruleset: it changed during each of " + strconv.Itoa(maxReadTries) + " reads")
}

func readOnce(netns int, w *wire) (*Ruleset, error) {
	rs := &Ruleset{}
	tables, err := readTables(netns)
	if err != nil {
		return nil, err
	}
	for _, t := range tables.list {
		rs.Tables = append(rs.Tables, t)
	}
	steps := []struct {
		name string
		fn   func(*wire, *tableIndex) error
	}{
		{"rules", addRules}, {"sets", addSets}, {"ct helpers", addHelpers}, {"flowtables", addFlowtables},
	}
	for _, s := range steps {
		if err := s.fn(w, tables); err != nil {
			return nil, netfilter.Wrap(s.name, err)
		}
	}
	if rs.Ifindex, err = links(netns); err != nil {
		return nil, netfilter.Wrap("devices", err)
	}
	return rs, nil
}

// tableIndex finds tables and chains by name while the snapshot is built.
type tableIndex struct {
	list   []*Table
	tables map[tableKey]*Table
}

// readTables lists tables and chains through nftwire (which reads table
// flags big-endian, as the kernel sends them: google/nftables read them in
// host order, so dormant tables did not show on little-endian hosts).
func readTables(netns int) (*tableIndex, error) {
	nts, err := nftwire.Tables(netns, unix.NFPROTO_UNSPEC)
	if err != nil {
		return nil, netfilter.Wrap("tables", err)
	}
	ts := make([]*Table, len(nts))
	for i, t := range nts {
		ts[i] = &Table{Family: familyName(byte(t.Family)), Name: t.Name, Flags: t.Flags}
	}
	ix := &tableIndex{list: ts, tables: map[tableKey]*Table{}}
	for _, t := range ts {
		ix.tables[tableKey{t.Family, t.Name}] = t
		t.chains = map[string]*Chain{} // by name while reading; index() rebuilds it
	}
	cs, err := nftwire.Chains(netns, unix.NFPROTO_UNSPEC)
	if err != nil {
		return nil, netfilter.Wrap("chains", err)
	}
	for _, c := range cs {
		k := tableKey{familyName(byte(c.Table.Family)), c.Table.Name}
		t := ix.tables[k]
		if t == nil {
			continue // table created after we listed tables: the generation check repeats the read
		}
		ch := chainFrom(k.fam, c)
		ch.Table = t
		t.Chains = append(t.Chains, ch)
		t.chains[ch.Name] = ch
	}
	return ix, nil
}

func chainFrom(fam string, c *nftwire.Chain) *Chain {
	ch := &Chain{Name: c.Name, Type: string(c.Type)}
	if c.Hooknum == nil {
		return ch
	}
	ch.Hook = hookName(fam, uint32(*c.Hooknum))
	if c.Priority != nil {
		ch.Priority = int32(*c.Priority)
	}
	ch.Policy = netfilter.Accept
	if c.Policy != nil && *c.Policy == nftwire.PolicyDrop {
		ch.Policy = netfilter.Drop
	}
	return ch
}

// ipHooks are the hooks of the inet, ip, ip6 and bridge families, by number.
var ipHooks = [...]string{"prerouting", "input", "forward", "output", "postrouting", "ingress"}

// hookName names a hook number, which depends on the family.
func hookName(fam string, n uint32) string {
	var names []string
	switch fam {
	case "netdev":
		names = []string{"ingress", "egress"}
	case "arp":
		names = []string{"input", "output", "forward"}
	default: // inet, ip, ip6, bridge
		names = ipHooks[:]
	}
	if int(n) < len(names) {
		return names[n]
	}
	return "hook" + utoa(uint64(n))
}

func addRules(w *wire, ix *tableIndex) error {
	rules, err := w.rules()
	if err != nil {
		return err
	}
	for _, r := range rules {
		if t := ix.tables[r.table]; t != nil {
			if c := t.chains[r.chain]; c != nil {
				r.rule.Chain = c
				c.Rules = append(c.Rules, r.rule)
			}
		}
	}
	return nil
}

func addSets(w *wire, ix *tableIndex) error {
	sets, err := w.sets()
	if err != nil {
		return err
	}
	for _, so := range sets {
		t := ix.tables[so.table]
		if t == nil {
			continue
		}
		so.set.Table = t
		if so.set.Elements, err = w.elements(so.fam, so.table.name, so.set.Name); err != nil {
			return netfilter.Wrap("elements of "+so.table.fam+" "+so.table.name+" @"+so.set.Name, err)
		}
		t.Sets = append(t.Sets, so.set)
	}
	return nil
}

func addHelpers(w *wire, ix *tableIndex) error {
	hs, err := w.helpers()
	if err != nil {
		return err
	}
	for _, h := range hs {
		if t := ix.tables[h.table]; t != nil {
			t.Helpers = append(t.Helpers, h.helper)
		}
	}
	return nil
}

func addFlowtables(w *wire, ix *tableIndex) error {
	fts, err := w.flowtables()
	if err != nil {
		return err
	}
	for _, f := range fts {
		if t := ix.tables[f.table]; t != nil {
			t.Flowtables = append(t.Flowtables, f.ft)
		}
	}
	return nil
}

// genBuffer is enough for the one short reply to NFT_MSG_GETGEN.
const genBuffer = 4 << 10

// Generation returns the ruleset generation of the calling thread's network
// namespace: one short netlink round trip. Every committed transaction bumps
// it, so an unchanged generation means an unchanged ruleset (the agent
// reuses a status built from it).
func Generation() (uint32, error) {
	w, err := openWire(0, genBuffer)
	if err != nil {
		return 0, netfilter.Wrap("nftables generation: open netlink", err)
	}
	defer w.close()
	gen, err := w.generation()
	if err != nil {
		return 0, netfilter.Wrap("nftables generation", err)
	}
	return gen, nil
}
