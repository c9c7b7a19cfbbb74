package ipt

import (
	"errors"
	"sort"

	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
	"golang.org/x/sys/unix"
)

// cleanupTables are the tables this package ever writes to.
var cleanupTables = []string{tableFilter, tableRaw}

// Cleanup removes everything of ours in both variants and both families,
// whatever backend or process put it there.
func (b *Backend) Cleanup() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return Cleanup()
}

// Cleanup removes our chains (vpnpass*) and every rule tagged vpnpass:* in
// the filter and raw tables of iptables-legacy and iptables-nft, IPv4 and
// IPv6, wherever they exist. Untagged rules are never touched: one that
// still jumps to our chain makes removing that chain fail, and the error
// says so. A variant that is not installed is skipped.
func Cleanup() error {
	var errs []error
	for _, v := range Variants {
		for _, f := range []vpn.Family{vpn.IPv4, vpn.IPv6} {
			if err := cleanupFamily(v, f); err != nil {
				slicex.Errors(&errs, netfilter.Wrap("cleanup "+famName(f)+"-"+v, err))
			}
		}
	}
	return errors.Join(errs...)
}

func cleanupFamily(variant string, f vpn.Family) error {
	tables, err := tablesToClean(variant, f)
	if err != nil || len(tables) == 0 {
		return err
	}
	ipt, err := newIPT(variant, f, Options{}.wait())
	if err != nil {
		// Our rules exist but the tool to remove them is gone.
		return err
	}
	for _, t := range tables {
		if err := cleanTable(ipt, t); err != nil {
			return err
		}
	}
	return nil
}

// tablesToClean returns the tables that may hold something of ours without
// creating any: legacy from /proc, nft from netlink (only those that do).
func tablesToClean(variant string, f vpn.Family) ([]string, error) {
	if _, err := binaryPath(variant, f); err != nil {
		return nil, nil
	}
	var exist map[string]bool   // legacy: the tables
	var nt map[string]*nftTable // nft: the tables, flagged when holding ours
	var err error
	if variant == VariantLegacy {
		exist, _, err = legacyTables(f)
	} else {
		nt, err = nftXtables(f, true)
		if errors.Is(err, unix.EPROTONOSUPPORT) {
			return nil, nil // no nf_tables in this kernel: nothing of ours there
		}
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range cleanupTables {
		if exist[t] || (nt[t] != nil && nt[t].ours) {
			slicex.Strings(&out, t)
		}
	}
	return out, nil
}

// cleanTable deletes tagged rules from every chain, then empties and
// deletes our chains.
func cleanTable(r cleaner, table string) error {
	tl, err := listTable(r, table)
	if err != nil {
		return err
	}
	names := tl.names
	sort.StringSlice(names).Sort()
	var ours []string
	for _, n := range names {
		if isOurChain(n) {
			slicex.Strings(&ours, n)
			continue
		}
		c, err := tl.chain(table, n)
		if err != nil {
			return err
		}
		for _, rule := range c.Rules {
			if !netfilter.IsOurTag(rule.Comment) {
				continue
			}
			if err := r.Delete(table, n, rule.Args...); err != nil {
				return netfilter.Wrap("delete "+rule.String()+" from "+table+" "+n, err)
			}
		}
	}
	for _, n := range ours {
		if err := r.ClearChain(table, n); err != nil {
			return netfilter.Wrap("flush "+table+" "+n, err)
		}
	}
	for _, n := range ours {
		if err := r.DeleteChain(table, n); err != nil {
			return netfilter.Wrap("delete chain "+table+" "+n+" (an untagged rule may still jump to it)", err)
		}
	}
	return nil
}

// cleaner is a runner that can also flush a chain.
type cleaner interface {
	runner
	ClearChain(table, chain string) error
}
