package agent

import (
	"context"
	"sync"

	"github.com/vpnpass/vpnpass/agent/wan"
	"github.com/vpnpass/vpnpass/netfilter"
)

// startWAN runs the WAN watch: it keeps the NAT verdict current, records
// wan.changed / nat.changed, and re-resolves the router when the WAN device
// moves (a PPPoE or DHCP reconnect on another device changes our rules).
func (d *Daemon) startWAN(ctx context.Context, wg *sync.WaitGroup) {
	d.mu.Lock()
	cfg := d.cfg
	d.mu.Unlock()
	nl := &wan.Netlink{Device: cfg.WANDevice}
	w := &wan.Watcher{
		Source:  nl,
		Changes: nl,
		Config: wan.Config{PublicRanges: cfg.PublicRanges, NetworkConfig: d.opts.Paths.Network,
			Probe: wan.ProbeConfig{STUNServer: cfg.STUNServer, IGD: cfg.UPnPProbe, NATPMP: cfg.UPnPProbe}},
		OnError: func(err error) {
			if d.limit.allow("wan") {
				d.log.Warn("WAN watch", "err", err)
			}
		},
	}
	w.OnEvents = func(evs []wan.Event) {
		d.recordWAN(evs)
		if n, ok := w.Current(); ok {
			d.wanMoved(n.WANDevice)
		}
	}
	d.watcher = w
	wg.Add(1)
	go func() { // no defer: a panic here ends the process (smaller code)
		if err := w.Run(ctx); err != nil {
			d.fail("watch the WAN", err)
		}
		wg.Done()
	}()
}

// wanMoved re-opens the firewall when the WAN device changed.
func (d *Daemon) wanMoved(dev string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.ready || dev == "" || d.router.WAN.Has(dev) || d.cfg.WANDevice != "" {
		return
	}
	d.log.Info("WAN device changed: re-placing our rules", "from", d.router.WAN, "to", dev)
	var inForce netfilter.Desired
	if d.mgr != nil {
		inForce = d.mgr.Applied()
		if err := d.mgr.Cleanup(); err != nil {
			d.fail("remove rules for the old WAN device", err)
		}
	}
	d.setupLocked(inForce)
}
