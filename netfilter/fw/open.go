package fw

import (
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
)

// Options configure the composed firewall backend.
type Options struct {
	// Backend is the configured backend: "" or "auto" detects, else one of
	// fw4, nftables, fw3, iptables (or iptables-legacy / iptables-nft).
	Backend netfilter.Kind
	// LANDevices are the router's LAN devices (br-lan); at least one.
	LANDevices []string
	// WAN are the WAN devices per family; a family without devices gets no
	// forward rules.
	WAN netfilter.WAN
	// Root prefixes the fw4 include paths ("" = /); tests point it at a temp dir.
	Root string
	// AutoIncludes mirrors fw4's `auto_includes` (true unless set to 0).
	AutoIncludes bool
	// Forget deletes the conntrack entries of the footprints of protocols
	// whose mode changed; nil skips it. Drift repairs never call it.
	Forget func([]vpn.Protocol) error
	// Baseline is the modes already in force when the manager is built
	// (nil: none of ours): a re-open after a firewall or WAN change keeps
	// the modes, so its first Apply forgets nothing.
	Baseline netfilter.Desired
}

// variantOf returns the iptables variant that carries a kind in d.
func variantOf(d Detection, k netfilter.Kind) string {
	for _, h := range d.Hookers {
		if h.Kind == k && h.Variant != "" {
			return h.Variant
		}
	}
	switch {
	case k == netfilter.KindIptablesNft:
		return "nft"
	case k == netfilter.KindFW3 && !d.Legacy && d.NFTables:
		return "nft"
	}
	return "legacy"
}
