// Package fw composes the firewall backends: it detects which firewalls hook
// the forward path, picks the one in charge, and drives all of them as one
// netfilter.Backend so that an allow lands in every firewall that could drop
// it. It knows the kernel, nothing of the agent.
package fw

import (
	"github.com/vpnpass/vpnpass/internal/sortx"
	"github.com/vpnpass/vpnpass/netfilter"
)

// Hooker is one firewall found hooking the forward path.
type Hooker struct {
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
var rank = map[netfilter.Kind]int{
	netfilter.KindFW4: 0, netfilter.KindFW3: 1, netfilter.KindNftables: 2,
	netfilter.KindIptablesNft: 3, netfilter.KindIptablesLegacy: 4,
}

// decide fills InCharge and Also from the hookers found (pure, tested).
func decide(hs []Hooker) (netfilter.Kind, []netfilter.Kind) {
	if len(hs) == 0 {
		return netfilter.KindNone, []netfilter.Kind{}
	}
	kinds := map[netfilter.Kind]bool{}
	drops := map[netfilter.Kind]bool{}
	for _, h := range hs {
		kinds[h.Kind] = true
		drops[h.Kind] = drops[h.Kind] || h.Drops
	}
	list := make([]netfilter.Kind, 0, len(kinds))
	for k := range kinds {
		list = append(list, k)
	}
	sortx.Sort(len(list), func(i, j int) bool {
		a, b := list[i], list[j]
		// fw4 and fw3 are in charge whenever present.
		if (rank[a] <= 1) != (rank[b] <= 1) {
			return rank[a] <= 1
		}
		if drops[a] != drops[b] {
			return drops[a]
		}
		return rank[a] < rank[b]
	}, func(i, j int) { list[i], list[j] = list[j], list[i] })
	return list[0], append([]netfilter.Kind{}, list[1:]...)
}
