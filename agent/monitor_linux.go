package agent

import (
	"context"

	"github.com/google/nftables"
)

// watchRuleset reports nftables ruleset changes (someone's `nft -f`, a fw4
// reload). Our own applies show up too; repair then finds no drift.
func (d *Daemon) watchRuleset(ctx context.Context) <-chan struct{} {
	out := make(chan struct{}, 1)
	conn, err := nftables.New()
	if err != nil {
		d.fail("watch nftables changes", err)
		return out
	}
	mon := nftables.NewMonitor(nftables.WithMonitorAction(nftables.MonitorActionAny),
		nftables.WithMonitorObject(nftables.MonitorObjectTables|nftables.MonitorObjectChains|nftables.MonitorObjectRules))
	events, err := conn.AddMonitor(mon)
	if err != nil {
		// No nf_tables (an fw3 image): the iptables poll covers drift.
		d.log.Info("no nftables monitor; relying on polling", "err", err)
		return out
	}
	go func() {
		defer mon.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-events:
				if !ok {
					return
				}
				if ev.Error != nil {
					continue
				}
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out
}
