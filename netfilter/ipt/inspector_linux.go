package ipt

import (
	"errors"
	"strconv"
	"sync"

	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
)

// Inspector reads one iptables variant's rules for evaluation. It never
// creates a table: legacy tables that are not instantiated and nf_tables
// tables that do not exist are simply not there.
type Inspector struct {
	_ [0]func() // never compared: no generated eq function

	// Kind is what decisions are attributed to; KindOf(variant) by default,
	// set it to fw3 when fw3 manages these tables.
	Kind    netfilter.Kind
	variant string

	mu   sync.Mutex
	ipts [2]*Tool // IPv4, IPv6
}

var _ netfilter.Inspector = (*Inspector)(nil)

// NewInspector returns an Inspector for VariantLegacy or VariantNft.
func NewInspector(variant string) (*Inspector, error) {
	if err := checkVariant(variant); err != nil {
		return nil, err
	}
	return &Inspector{Kind: KindOf(variant), variant: variant}, nil
}

// hookTables are the tables inspected on each hook, with their
// priorities: mangle (-150) and filter (0), the same for every hook.
var hookTables = [...]struct {
	table    string
	priority int32
}{{"mangle", -150}, {tableFilter, 0}}

// baseName is the base chain of an inspected hook, "" for other hooks.
func baseName(hook string) string {
	switch hook {
	case "forward":
		return "FORWARD"
	case "input":
		return "INPUT"
	case "output":
		return "OUTPUT"
	}
	return ""
}

// Chains returns the base chains of this variant on hook for fam: filter's,
// and mangle's when it holds rules (mangle usually only clamps MSS). Hooks
// other than forward, input and output are not inspected here.
func (in *Inspector) Chains(hook string, fam vpn.Family) ([]netfilter.Chain, error) {
	base := baseName(hook)
	if base == "" {
		return nil, errors.New(string(in.Kind) + " inspector: hook " + strconv.Quote(hook) + " is not inspected (only forward, input, output)")
	}
	var out []netfilter.Chain
	for _, t := range hookTables {
		snap, err := in.snapshot(fam, t.table, base)
		if err != nil {
			return nil, err
		}
		c := snap.chains[base]
		if c == nil || (t.table != tableFilter && len(c.Rules) == 0 && c.Policy != "DROP") {
			continue
		}
		out = append(out, &baseChain{snap: snap, ref: netfilter.ChainRef{
			Backend: in.Kind, Family: famName(fam), Table: t.table, Name: base, Hook: hook,
			Priority: t.priority, Policy: policyVerdict(c.Policy),
		}})
	}
	return out, nil
}

func policyVerdict(p string) netfilter.Verdict {
	if p == "DROP" {
		return netfilter.Drop
	}
	return netfilter.Accept
}

// HelperAssignments lists the `-j CT --helper` rules reachable from raw
// PREROUTING and OUTPUT (IPv4: the pptp helper is IPv4 only), with who owns
// each: "vpnpass", "fw3" (its zone_*_helper chains), or this variant.
func (in *Inspector) HelperAssignments() ([]HelperAssignment, error) {
	snap, err := in.snapshot(vpn.IPv4, tableRaw, "PREROUTING", "OUTPUT")
	if err != nil {
		return nil, err
	}
	return snap.helperAssignments(), nil
}

// Masquerade says whether some path through IPv4 nat POSTROUTING can reach
// MASQUERADE or SNAT for a packet leaving through wan. Rules it cannot
// evaluate (a source range, say) count as possibly taken.
func (in *Inspector) Masquerade(wan string) (bool, error) {
	snap, err := in.snapshot(vpn.IPv4, "nat", "POSTROUTING")
	if err != nil {
		return false, err
	}
	p := netfilter.Packet{Family: vpn.IPv4, OutIf: wan, CtState: "new"}
	found, _ := snap.mayMasquerade("POSTROUTING", &p, 0)
	return found, nil
}

// snapshot reads the chains of table reachable from bases; an absent table
// gives an empty snapshot.
func (in *Inspector) snapshot(fam vpn.Family, table string, bases ...string) (*tableSnap, error) {
	snap := &tableSnap{kind: in.Kind, family: famName(fam), table: table, chains: map[string]*ChainRules{}}
	present, err := in.tablePresent(fam, table)
	if err != nil || !present {
		return snap, err
	}
	r, err := in.runner(fam)
	if err != nil {
		return nil, err
	}
	tl, err := listTable(r, table)
	if err != nil {
		return nil, netfilter.Wrap(string(in.Kind)+" inspector: "+famName(fam), err)
	}
	queue := append([]string(nil), bases...)
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if snap.chains[n] != nil || !tl.has(n) {
			continue
		}
		c, err := tl.chain(table, n)
		if err != nil {
			return nil, netfilter.Wrap(string(in.Kind)+" inspector: "+famName(fam), err)
		}
		snap.chains[n] = c
		for _, rule := range c.Rules {
			if tl.has(rule.Target) {
				slicex.Strings(&queue, rule.Target)
			}
		}
	}
	return snap, nil
}

func (in *Inspector) tablePresent(fam vpn.Family, table string) (bool, error) {
	if in.variant == VariantLegacy {
		t, _, err := legacyTables(fam)
		return t[table], err
	}
	nt, err := nftXtables(fam, false)
	if err != nil {
		return false, err
	}
	return nt[table] != nil, nil
}

func (in *Inspector) runner(fam vpn.Family) (runner, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	i := 0
	if fam == vpn.IPv6 {
		i = 1
	}
	if r := in.ipts[i]; r != nil {
		return r, nil
	}
	r, err := newIPT(in.variant, fam, Options{}.wait())
	if err != nil {
		return nil, netfilter.Wrap(string(in.Kind)+" inspector", err)
	}
	in.ipts[i] = r
	return r, nil
}
