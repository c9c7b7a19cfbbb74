// Package fw composes the firewall backends: it detects which firewalls hook
// the forward path, picks the one in charge, and drives all of them as one
// netfilter.Backend so that an allow lands in every firewall that could drop
// it. It knows the kernel, nothing of the agent.
package fw

import (
	"github.com/vpnpass/vpnpass/netfilter"
)

// Hooker is one firewall found hooking the forward path.
type Hooker struct {
	_    [0]func()
	Kind netfilter.Kind
	// Table names the nftables table (family/name) or the iptables table.
	Table string
	// Drops is true when its forward chain can drop (drop policy or a
	// drop/reject rule): those are the chains an allow must be placed in.
	Drops bool
	// Variant is "legacy" or "nft" for iptables-managed kinds (fw3 runs on
	// either), "" for nftables.
	Variant string
}

// addHookers appends v to *s: one call instead of append's inline code at
// each site (see internal/slicex).
func addHookers(s *[]Hooker, v ...Hooker) { *s = append(*s, v...) }

// Detection says which firewalls hook forward and which one is in charge.
type Detection struct {
	InCharge netfilter.Kind
	Also     []netfilter.Kind
	Hookers  []Hooker
	// NFTables is false when the kernel has no nf_tables (an old fw3 image).
	NFTables bool
	// Legacy is true when iptables-legacy tables are registered in this netns.
	Legacy bool
}

// rank orders kinds for "in charge": the distribution firewalls first, then
// whoever drops, then plain nftables before the iptables flavours.
// (A switch, not a map: a map literal is built by init code.)
func rank(k netfilter.Kind) int {
	switch k {
	case netfilter.KindFW4:
		return 0
	case netfilter.KindFW3:
		return 1
	case netfilter.KindNftables:
		return 2
	case netfilter.KindIptablesNft:
		return 3
	case netfilter.KindIptablesLegacy:
		return 4
	}
	return 0
}

// kindIndex is slices.Index for kinds (one plain loop: the generic
// Index and Contains instances cost more mips code than it).
func kindIndex(list []netfilter.Kind, k netfilter.Kind) int {
	for i, x := range list {
		if x == k {
			return i
		}
	}
	return -1
}

// decide fills InCharge and Also from the hookers found (pure, tested).
func decide(hs []Hooker) (netfilter.Kind, []netfilter.Kind) {
	if len(hs) == 0 {
		return netfilter.KindNone, []netfilter.Kind{}
	}
	// The kinds, each once, with whether any of its hookers drops.
	var list []netfilter.Kind
	var drops []bool
	for _, h := range hs {
		i := kindIndex(list, h.Kind)
		if i < 0 {
			i = len(list)
			list, drops = append(list, h.Kind), append(drops, false)
		}
		drops[i] = drops[i] || h.Drops
	}
	// An insertion sort: a handful of kinds, and no closure for sort.Slice.
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && before(list[j], drops[j], list[j-1], drops[j-1]); j-- {
			list[j], list[j-1] = list[j-1], list[j]
			drops[j], drops[j-1] = drops[j-1], drops[j]
		}
	}
	return list[0], append([]netfilter.Kind{}, list[1:]...)
}

// before orders kinds for "in charge" (a drops when da).
func before(a netfilter.Kind, da bool, b netfilter.Kind, db bool) bool {
	// fw4 and fw3 are in charge whenever present.
	if (rank(a) <= 1) != (rank(b) <= 1) {
		return rank(a) <= 1
	}
	if da != db {
		return da
	}
	return rank(a) < rank(b)
}
