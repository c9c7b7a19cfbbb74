package fw

import (
	"errors"
	"strconv"

	"github.com/vpnpass/vpnpass/netfilter"
)

// Role says what a sub-backend is for.
type Role int

const (
	// Primary is the firewall in charge: it gets every mode, blocks included.
	Primary Role = iota
	// Extra is another firewall whose forward chain could drop the
	// footprint: it gets the allows only (a block in one place is enough).
	Extra
)

// Spec names one sub-backend to build.
type Spec struct {
	Kind netfilter.Kind
	Role Role
}

// Plan chooses the sub-backends for a detection (pure, tested). force is the
// configured backend ("" or "auto" = detect). Without any firewall we still
// need a home for blocks and the helper: nftables when the kernel has it,
// else iptables-legacy.
func Plan(d Detection, force netfilter.Kind) ([]Spec, error) {
	primary := d.InCharge
	if force != "" && force != "auto" {
		switch force {
		case netfilter.KindFW4, netfilter.KindNftables, netfilter.KindFW3,
			netfilter.KindIptablesLegacy, netfilter.KindIptablesNft:
			primary = force
		case "iptables":
			primary = netfilter.KindIptablesLegacy
			if !d.Legacy && d.NFTables {
				primary = netfilter.KindIptablesNft
			}
		default:
			return nil, errors.New("unknown backend " + strconv.Quote(string(force)) + ": must be one of auto, fw4, nftables, fw3, iptables")
		}
	}
	if primary == netfilter.KindNone {
		primary = netfilter.KindIptablesLegacy
		if d.NFTables {
			primary = netfilter.KindNftables
		}
	}
	if !d.NFTables && (primary == netfilter.KindFW4 || primary == netfilter.KindNftables) {
		return nil, errors.New("backend " + string(primary) + " needs nf_tables, which this kernel lacks: install kmod-nft-core or choose backend fw3/iptables")
	}
	specs := []Spec{{Kind: primary, Role: Primary}}
	// fw4 is plain nftables too: its backend also covers other nft tables.
	seen := coveredBy(nil, primary)
	for _, h := range d.Hookers {
		if !h.Drops || kindIndex(seen, h.Kind) >= 0 {
			continue
		}
		seen = coveredBy(seen, h.Kind)
		specs = append(specs, Spec{Kind: h.Kind, Role: Extra})
	}
	return specs, nil
}

// coveredBy adds to seen the kinds a backend of kind k covers: k, and both
// fw4 and nftables for either.
func coveredBy(seen []netfilter.Kind, k netfilter.Kind) []netfilter.Kind {
	if k == netfilter.KindFW4 || k == netfilter.KindNftables {
		return append(seen, netfilter.KindFW4, netfilter.KindNftables)
	}
	return append(seen, k)
}

// extraDesired keeps only the allows: blocks live in the primary alone.
func extraDesired(d netfilter.Desired) netfilter.Desired {
	out := netfilter.Desired{}
	for p, m := range d {
		if m == netfilter.ModeAllow {
			out[p] = m
		}
	}
	return out
}
