package nfteval

import (
	"github.com/google/nftables/expr"
	"github.com/vpnpass/vpnpass/netfilter"
)

// Ruleset is one consistent snapshot of the kernel's nftables ruleset.
type Ruleset struct {
	// Generation is the ruleset generation the snapshot was taken at; it
	// changes with every committed nftables transaction.
	Generation uint32
	Tables     []*Table
	// Ifindex maps the namespace's device names to their index, for
	// `iif`/`oif` matches, which compare indexes, not names.
	Ifindex map[string]uint32
}

// Table is one nftables table with everything in it.
type Table struct {
	Family string // inet, ip, ip6, arp, bridge, netdev
	Name   string
	Flags  uint32
	// Xtables marks a table managed by iptables-nft (compat matches or
	// targets, or iptables' built-in base chains in an ip/ip6 table).
	Xtables    bool
	Chains     []*Chain
	Sets       []*Set
	Flowtables []*Flowtable
	Helpers    []*Helper // named `ct helper` objects

	chains map[string]*Chain
	sets   map[string]*Set
	rs     *Ruleset
}

// Chain is a base chain (Hook set) or a regular chain.
type Chain struct {
	Table    *Table
	Name     string
	Hook     string // prerouting, input, forward, output, postrouting, ingress, egress; "" if regular
	Priority int32
	Type     string            // filter, nat, route (base chains)
	Policy   netfilter.Verdict // accept or drop (base chains)
	Rules    []*Rule
}

// Rule is one rule with its expressions as google/nftables decodes them.
// Expressions the library cannot decode appear as *nftwire.Opaque.
type Rule struct {
	Chain   *Chain
	Handle  uint64
	Exprs   []expr.Any
	Comment string
	// Compat is true when the rule holds xtables compat match/target
	// expressions (iptables-nft).
	Compat bool
}

// Set is a named or anonymous set, map or verdict map, with its elements.
type Set struct {
	Table    *Table
	Name     string
	ID       uint32
	Flags    uint32
	KeyType  uint32
	KeyLen   uint32
	DataType uint32 // NFT_DATA_VERDICT (0xffffff00) for verdict maps
	DataLen  uint32
	// FieldLen holds the byte length of each field of a concatenated key,
	// as the kernel describes it; nil for a single-field key.
	FieldLen []uint32
	Elements []Element
}

// Element is one set element. Interval sets of one field store boundaries:
// a start element, and an IntervalEnd element one past the last value.
// Concatenated interval sets store Key..KeyEnd (inclusive) per field.
type Element struct {
	Key         []byte
	KeyEnd      []byte
	Data        []byte
	Verdict     *expr.Verdict // verdict maps
	IntervalEnd bool
}

// Flowtable is a flowtable (fast path for established flows).
type Flowtable struct {
	Name     string
	Priority int32
	Devices  []string
	Flags    uint32 // bit 0: hardware offload, bit 1: counter
}

// Hardware reports whether the flowtable asks for hardware offload.
func (f *Flowtable) Hardware() bool { return f.Flags&flowtableHWOffload != 0 }

// Helper is a named `ct helper` object.
type Helper struct {
	_       noCompare
	Name    string // object name, as rules reference it
	Type    string // helper type, as the kernel knows it: "pptp"
	L3Proto uint16
	L4Proto uint8
}

// Kernel constants the x/sys and google/nftables versions we pin lack.
const (
	flowtableHWOffload = 0x1        // NFT_FLOWTABLE_HW_OFFLOAD
	setAnonymous       = 0x1        // NFT_SET_ANONYMOUS
	setInterval        = 0x4        // NFT_SET_INTERVAL
	setMap             = 0x8        // NFT_SET_MAP
	setConcat          = 0x80       // NFT_SET_CONCAT
	dataVerdict        = 0xffffff00 // NFT_DATA_VERDICT
	tableDormant       = 0x1        // NFT_TABLE_F_DORMANT
	objCtHelper        = 3          // NFT_OBJECT_CT_HELPER
)

// Anonymous reports whether the set was made for one rule (`{ 500, 4500 }`).
func (s *Set) Anonymous() bool { return s.Flags&setAnonymous != 0 }

// Interval reports whether the set holds ranges or prefixes.
func (s *Set) Interval() bool { return s.Flags&setInterval != 0 }

// IsMap reports whether elements carry data (maps and verdict maps).
func (s *Set) IsMap() bool { return s.Flags&setMap != 0 }

// IsVerdictMap reports whether element data are verdicts.
func (s *Set) IsVerdictMap() bool { return s.IsMap() && s.DataType == dataVerdict }

// Dormant reports whether the table is switched off (its chains hook nothing).
func (t *Table) Dormant() bool { return t.Flags&tableDormant != 0 }

// Chain returns the named chain, or nil.
func (t *Table) Chain(name string) *Chain { return t.chains[name] }

// Set returns the named set (or anonymous set such as "__set0"), or nil.
func (t *Table) Set(name string) *Set { return t.sets[name] }

// Helper returns the ct helper object of that name, or nil.
func (t *Table) Helper(name string) *Helper {
	for _, h := range t.Helpers {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// ifindex is the device index map of the table's snapshot (nil for a
// table not built by Read).
func (t *Table) ifindex() map[string]uint32 {
	if t.rs == nil {
		return nil
	}
	return t.rs.Ifindex
}

// Kind names the firewall the table belongs to: fw4 for `inet fw4`,
// iptables-nft for xtables tables, nftables otherwise.
func (t *Table) Kind() netfilter.Kind {
	switch {
	case t.Xtables:
		return netfilter.KindIptablesNft
	case t.Family == "inet" && t.Name == "fw4":
		return netfilter.KindFW4
	}
	return netfilter.KindNftables
}

// TableRef names a table.
type TableRef struct {
	Family string `json:"family"`
	Name   string `json:"name"`
}

// Table returns the table of that family and name, or nil.
func (rs *Ruleset) Table(family, name string) *Table {
	for _, t := range rs.Tables {
		if t.Family == family && t.Name == name {
			return t
		}
	}
	return nil
}

// HasTable reports whether the table exists (`inet fw4` means fw4 runs).
func (rs *Ruleset) HasTable(family, name string) bool { return rs.Table(family, name) != nil }

// TableRefs lists every table, in kernel order.
func (rs *Ruleset) TableRefs() []TableRef {
	out := make([]TableRef, 0, len(rs.Tables))
	for _, t := range rs.Tables {
		out = append(out, TableRef{t.Family, t.Name})
	}
	return out
}

// XtablesTables lists the tables iptables-nft manages, to be left to the
// iptables inspector.
func (rs *Ruleset) XtablesTables() []TableRef {
	var out []TableRef
	for _, t := range rs.Tables {
		if t.Xtables {
			out = append(out, TableRef{t.Family, t.Name})
		}
	}
	return out
}

// index builds the name maps and back pointers once everything is read.
func (rs *Ruleset) index() {
	for _, t := range rs.Tables {
		t.rs = rs
		t.chains = make(map[string]*Chain, len(t.Chains))
		for _, c := range t.Chains {
			c.Table = t
			t.chains[c.Name] = c
			for _, r := range c.Rules {
				r.Chain = c
			}
		}
		t.sets = make(map[string]*Set, len(t.Sets))
		for _, s := range t.Sets {
			s.Table = t
			t.sets[s.Name] = s
		}
		t.Xtables = isXtables(t)
	}
}

// xtablesChains are iptables' built-in chain names, which iptables-nft
// creates as base chains.
var xtablesChains = []string{"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}

// isXtables recognises a table iptables-nft manages: compat expressions
// anywhere, or an ip/ip6 table whose base chains carry iptables' names
// (iptables-nft translates simple matches to native expressions, so a table
// without compat expressions may still be its).
func isXtables(t *Table) bool {
	for _, c := range t.Chains {
		for _, r := range c.Rules {
			if r.Compat {
				return true
			}
		}
	}
	if t.Family != "ip" && t.Family != "ip6" {
		return false
	}
	for _, c := range t.Chains {
		if c.Hook != "" && contains(xtablesChains, c.Name) {
			return true
		}
	}
	return false
}
