package fw

import (
	"errors"
	"os"
	"os/exec"
	"strings"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/ipt"
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

// Detect probes the kernel of the calling thread's network namespace for the
// firewalls hooking forward: nftables tables over netlink (fw4's `inet fw4`,
// iptables-nft's xtables tables, any other table), and iptables-legacy tables
// registered in this namespace.
func Detect() (Detection, error) {
	var d Detection
	hs, nftOK, err := nftHookers()
	if err != nil {
		return d, err
	}
	d.NFTables = nftOK
	addHookers(&d.Hookers, hs...)
	lh, legacy, err := legacyHookers()
	if err != nil {
		return d, err
	}
	d.Legacy = legacy
	addHookers(&d.Hookers, lh...)
	d.InCharge, d.Also = decide(d.Hookers)
	return d, nil
}

func nftHookers() ([]Hooker, bool, error) {
	chains, err := nftwire.Chains(0, unix.NFPROTO_UNSPEC)
	if err != nil {
		if errors.Is(err, unix.EPROTONOSUPPORT) || errors.Is(err, unix.ENOENT) {
			return nil, false, nil // no nf_tables in this kernel
		}
		if errors.Is(err, unix.EPERM) {
			return nil, false, netfilter.Wrap("detect firewall: list nftables chains: no permission (run as root)", err)
		}
		return nil, false, netfilter.Wrap("detect firewall: list nftables chains", err)
	}
	// The chains by table, in first-seen order (a handful of tables: no map).
	var byTable [][]*nftwire.Chain
	for _, c := range chains {
		i := 0
		for i < len(byTable) && (byTable[i][0].Table.Family != c.Table.Family || byTable[i][0].Table.Name != c.Table.Name) {
			i++
		}
		if i == len(byTable) {
			byTable = append(byTable, nil)
		}
		byTable[i] = append(byTable[i], c)
	}
	var out []Hooker
	for _, tc := range byTable {
		h, ok, err := nftTableHooker(tc)
		if err != nil {
			return nil, true, err
		}
		if ok {
			addHookers(&out, h)
		}
	}
	return out, true, nil
}

func tableKey(t *nftwire.Table) string { return familyName(t.Family) + " " + t.Name }

// familyName spells a table family as nft does.
func familyName(f nftwire.Family) string { return netfilter.NFTFamilyName(uint8(f)) }

// nftTableHooker classifies one table if it has a filter base chain on the
// forward hook. Our own tables never count as a foreign firewall.
func nftTableHooker(chains []*nftwire.Chain) (Hooker, bool, error) {
	t := chains[0].Table
	if strings.HasPrefix(t.Name, netfilter.TablePrefix) {
		return Hooker{}, false, nil
	}
	var fwd *nftwire.Chain
	fw3 := false // has fw3's forwarding_rule chain
	for _, c := range chains {
		fw3 = fw3 || c.Name == "forwarding_rule"
		if c.Hooknum != nil && *c.Hooknum == nftwire.HookForward && c.Type == nftwire.ChainFilter &&
			(t.Family == nftwire.FamilyINet || t.Family == nftwire.FamilyIPv4 || t.Family == nftwire.FamilyIPv6) {
			fwd = c
		}
	}
	if fwd == nil {
		return Hooker{}, false, nil
	}
	h := Hooker{Table: tableKey(t), Kind: netfilter.KindNftables}
	switch {
	case t.Family == nftwire.FamilyINet && t.Name == "fw4":
		h.Kind = netfilter.KindFW4
	case fwd.Name == "FORWARD" && fw3:
		h.Kind, h.Variant = netfilter.KindFW3, "nft" // fw3 on iptables-nft (OpenWrt 22.03 with fw3)
	case isXtables(t, fwd):
		h.Kind, h.Variant = netfilter.KindIptablesNft, "nft"
	}
	drops, err := tableCanDrop(fwd, chains)
	if err != nil {
		return Hooker{}, false, err
	}
	h.Drops = drops
	return h, true, nil
}

// isXtables recognises tables that iptables-nft manages: ip/ip6 tables with
// the classic names and upper-case built-in chains.
func isXtables(t *nftwire.Table, fwd *nftwire.Chain) bool {
	if t.Family != nftwire.FamilyIPv4 && t.Family != nftwire.FamilyIPv6 {
		return false
	}
	switch t.Name {
	case "filter", "mangle", "raw", "security", "nat":
		return fwd.Name == "FORWARD"
	}
	return false
}

// tableCanDrop: a drop policy on the forward chain, or any drop/reject rule in
// the table (reachable or not: a conservative "could drop").
func tableCanDrop(fwd *nftwire.Chain, chains []*nftwire.Chain) (bool, error) {
	if fwd.Policy != nil && *fwd.Policy == nftwire.PolicyDrop {
		return true, nil
	}
	for _, c := range chains {
		rules, _, err := nftwire.Rules(0, c.Table, c.Name)
		if err != nil {
			return false, netfilter.Wrap("detect firewall: read rules of "+tableKey(c.Table)+" "+c.Name, err)
		}
		for _, r := range rules {
			for _, e := range r.Exprs {
				switch v := e.(type) {
				case *expr.Reject:
					return true, nil
				case *expr.Verdict:
					if v.Kind == expr.VerdictDrop {
						return true, nil
					}
				case *expr.Target:
					if v.Name == "REJECT" {
						return true, nil
					}
				}
			}
		}
	}
	return false, nil
}

// legacyHookers looks at iptables-legacy. Its tables appear in
// /proc/net/ip_tables_names of this namespace only once used here, so a
// missing name means "not in use" without running any binary.
func legacyHookers() ([]Hooker, bool, error) {
	var out []Hooker
	used := false
	for _, fam := range legacyNames {
		if !hasFilter(fam.names) {
			continue
		}
		h, inUse, err := legacyFilterHooker(fam.bin)
		if err != nil {
			return nil, true, err
		}
		if inUse {
			used = true
			addHookers(&out, h)
		}
	}
	return out, used, nil
}

// legacyNames are iptables-legacy's table lists and binaries per family.
var legacyNames = []struct{ names, bin string }{
	{"/proc/net/ip_tables_names", "iptables-legacy"},
	{"/proc/net/ip6_tables_names", "ip6tables-legacy"},
}

// LegacyFilter says whether an iptables-legacy filter table exists in the
// calling thread's namespace: two small file reads, no binary. Its rules
// change without any event, unlike nftables' generation.
func LegacyFilter() bool {
	for _, fam := range legacyNames {
		if hasFilter(fam.names) {
			return true
		}
	}
	return false
}

// hasFilter says whether a table-names file lists filter.
func hasFilter(names string) bool {
	b, err := os.ReadFile(names)
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) == "filter" {
			return true
		}
	}
	return false
}

func legacyFilterHooker(bin string) (Hooker, bool, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		// Tables exist but the tool is gone: still a firewall, of unknown shape.
		return Hooker{Kind: netfilter.KindIptablesLegacy, Table: "filter", Drops: true, Variant: "legacy"}, true, nil
	}
	tool := ipt.NewTool(path, 0)
	rules, err := tool.ListTable("filter")
	if err != nil {
		return Hooker{}, false, netfilter.Wrap("detect firewall: "+bin+" list chains", err)
	}
	h := Hooker{Kind: netfilter.KindIptablesLegacy, Table: "filter", Variant: "legacy"}
	// Merely listing a legacy table registers it: a filter table with no
	// rule and ACCEPT policies filters nothing and is not a firewall.
	used := false
	for _, r := range rules {
		if r == "-N forwarding_rule" {
			h.Kind = netfilter.KindFW3
		}
		if r == "-P FORWARD DROP" || strings.HasSuffix(r, " -j DROP") || strings.Contains(r, " -j REJECT") {
			h.Drops = true
		}
		if strings.HasPrefix(r, "-A ") || (strings.HasPrefix(r, "-P ") && !strings.HasSuffix(r, " ACCEPT")) {
			used = true
		}
	}
	return h, used, nil
}
