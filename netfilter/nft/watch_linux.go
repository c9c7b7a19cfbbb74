package nft

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/nftables"
)

// ErrNoMonitor wraps the error of WatchRuleset when the kernel refuses the
// monitor (no nf_tables, as on an fw3 image): callers then poll instead.
var ErrNoMonitor = errors.New("no nftables monitor")

// WatchRuleset reports changes of the calling thread's network namespace's
// nftables ruleset (tables, chains, rules; anyone's, ours included) until
// ctx ends. Changes coalesce: the channel holds at most one signal, and is
// never closed (a reader selecting on it together with ctx never spins).
func WatchRuleset(ctx context.Context) (<-chan struct{}, error) {
	conn, err := nftables.New()
	if err != nil {
		return nil, fmt.Errorf("watch ruleset: open nftables netlink: %w", err)
	}
	mon := nftables.NewMonitor(nftables.WithMonitorAction(nftables.MonitorActionAny),
		nftables.WithMonitorObject(nftables.MonitorObjectTables|nftables.MonitorObjectChains|nftables.MonitorObjectRules))
	events, err := conn.AddMonitor(mon)
	if err != nil {
		return nil, fmt.Errorf("watch ruleset: %w: %w", ErrNoMonitor, err)
	}
	out := make(chan struct{}, 1)
	go forward(ctx, mon, events, out)
	return out, nil
}

// forward turns monitor events into coalesced signals, skipping the events
// the library could not decode.
func forward(ctx context.Context, mon *nftables.Monitor, events <-chan *nftables.MonitorEvent, out chan<- struct{}) {
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
}
