package ipt

import (
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

// nftTable is what netlink tells of an xtables-managed nf_tables table.
type nftTable struct {
	chains map[string]bool // chain name → is a base chain
	ours   bool            // holds a vpnpass chain or a vpnpass-tagged rule
}

// nftXtables reads the ip/ip6 tables that iptables-nft would use, over
// netlink (typed, no tool output), so iptables-nft is only run on tables
// that exist, and Cleanup only on tables holding something of ours. Rules
// are read only when scan is set (to fill ours).
func nftXtables(fam vpn.Family, scan bool) (map[string]*nftTable, error) {
	tf := nftwire.FamilyIPv4
	if fam == vpn.IPv6 {
		tf = nftwire.FamilyIPv6
	}
	chains, err := nftwire.Chains(0, byte(tf))
	if err != nil {
		return nil, netfilter.Wrap("list "+famName(fam)+" chains over netlink", err)
	}
	out := map[string]*nftTable{}
	for _, ch := range chains {
		t := out[ch.Table.Name]
		if t == nil {
			t = &nftTable{chains: map[string]bool{}}
			out[ch.Table.Name] = t
		}
		t.chains[ch.Name] = ch.Hooknum != nil
		if isOurChain(ch.Name) {
			t.ours = true
			continue
		}
		if t.ours || !scan {
			continue
		}
		rules, _, err := nftwire.Rules(0, ch.Table, ch.Name)
		if err != nil {
			return nil, netfilter.Wrap("list rules of "+ch.Table.Name+" "+ch.Name+" over netlink", err)
		}
		for _, r := range rules {
			if nftRuleIsOurs(r) {
				t.ours = true
				break
			}
		}
	}
	return out, nil
}

// nftRuleIsOurs finds our tag in the xt comment match iptables-nft writes.
// A native nft rule tagged in its user data belongs to the nft backend,
// which cleans it itself: iptables-nft must not be pointed at it.
func nftRuleIsOurs(r *nftwire.Rule) bool {
	for _, e := range r.Exprs {
		m, ok := e.(*expr.Match)
		if !ok || m.Name != "comment" {
			continue
		}
		if c, ok := m.Info.(*xt.Comment); ok && netfilter.IsOurTag(string(*c)) {
			return true
		}
	}
	return false
}
