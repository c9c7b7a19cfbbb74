package agent

import (
	"context"
	"errors"

	"github.com/vpnpass/vpnpass/netfilter/nft"
)

// watchRuleset reports nftables ruleset changes (someone's `nft -f`, a fw4
// reload). Our own applies show up too; repair then finds no drift.
func (d *Daemon) watchRuleset(ctx context.Context) <-chan struct{} {
	changes, err := nft.WatchRuleset(ctx)
	switch {
	case errors.Is(err, nft.ErrNoMonitor):
		// No nf_tables (an fw3 image): the iptables poll covers drift.
		d.log.Info("no nftables monitor; relying on polling", "err", err)
		return make(chan struct{}, 1)
	case err != nil:
		d.fail("watch nftables changes", err)
		return make(chan struct{}, 1)
	}
	return changes
}
