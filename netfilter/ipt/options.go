package ipt

import (
	"errors"
	"strconv"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
)

// Variants of iptables: which binaries (and so which kernel API) to use.
const (
	VariantLegacy = "legacy" // iptables-legacy: x_tables
	VariantNft    = "nft"    // iptables-nft: nf_tables through the xtables compat layer
)

// Variants lists both, in the order Cleanup visits them.
var Variants = []string{VariantLegacy, VariantNft}

// Options configures a Backend.
type Options struct {
	// Variant is VariantLegacy or VariantNft.
	Variant string
	// FW3 says OpenWrt's fw3 ruleset is present: our filter jump then sits
	// first in fw3's forwarding_rule (which FORWARD reaches first) instead of
	// FORWARD, where fw3 would flush it.
	FW3 bool
	// LANDevices are the devices LAN traffic comes in on; none means any.
	LANDevices []string
	// WAN are the devices towards the internet, per family; a family
	// without devices gets no forward rules (never rules for any -o).
	WAN netfilter.WAN
	// WaitSeconds bounds the wait for the xtables lock (-w); 0 means 10.
	WaitSeconds int
	// NoHelper leaves the pptp helper assignment (raw table) to another
	// backend: set when this one only carries forward allows beside the
	// firewall in charge, so no raw table is created just for us.
	NoHelper bool
}

func (o Options) kind() netfilter.Kind {
	switch {
	case o.FW3:
		return netfilter.KindFW3
	case o.Variant == VariantNft:
		return netfilter.KindIptablesNft
	}
	return netfilter.KindIptablesLegacy
}

func (o Options) wait() int {
	if o.WaitSeconds > 0 {
		return o.WaitSeconds
	}
	return 10
}

func checkVariant(v string) error {
	if v != VariantLegacy && v != VariantNft {
		return errors.New("unknown iptables variant " + strconv.Quote(v) + ": must be legacy or nft")
	}
	return nil
}

// KindOf returns the firewall kind of a variant (fw3 aside).
func KindOf(variant string) netfilter.Kind {
	return Options{Variant: variant}.kind()
}

// famName is how a Change names an iptables family.
func famName(f vpn.Family) string {
	if f == vpn.IPv6 {
		return "ip6tables"
	}
	return "iptables"
}
