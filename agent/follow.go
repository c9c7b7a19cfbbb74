package agent

import (
	"github.com/vpnpass/vpnpass/netfilter/observer"

	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/netfilter/fw"
	"github.com/vpnpass/vpnpass/vpn"
)

// followLocked re-detects the firewalls after a ruleset change and moves our
// rules when another one is in charge now: fw4 started after the agent (its
// include must be written, or every `fw4 reload` leaves a gap), a flush
// removed fw4, fw3 replaced by fw4. The new backend applies first, then the
// old one gives up only what the new one does not take over, so the router
// is never without our rules. The modes stay, so no conntrack entry is
// cleared.
func (d *Daemon) followLocked() {
	if d.mgr == nil {
		d.setupLocked(nil) // the firewall could not be opened before: try again
		return
	}
	det, err := fw.Detect()
	if err != nil {
		d.fail("detect the firewall", err)
		return
	}
	o := FirewallOptions(d.cfg, d.router, d.opts.Paths, ForgetFlows)
	specs, err := fw.Plan(det, o.Backend)
	if err != nil || fw.SameSpecs(specs, d.mgr.Specs()) {
		return // a Plan error was reported when the backend was chosen
	}
	o.Baseline = d.mgr.Applied()
	next, err := fw.OpenSpecs(specs, det, o)
	if err != nil {
		d.fail("open the firewall "+string(specs[0].Kind), err)
		return
	}
	old := d.mgr
	from := old.Kind()
	d.mgr = next
	d.stateVer++
	d.applyLocked("firewall " + string(from) + " → " + string(next.Kind()))
	if err := old.Retire(next); err != nil {
		d.fail("remove our rules from the firewall no longer in charge", err)
	}
	old.Close()
	d.log.Info("firewall in charge changed: rules moved", "from", from, "to", next.Kind(), "also", det.Also)
	d.record(&history.Event{Kind: history.KindFirewallDriftRepaired, Severity: vpn.SeverityInfo,
		Message: "The firewall in charge changed (" + string(from) + " → " + string(next.Kind()) + "); vpnpass moved its rules without interrupting connections.",
		Details: details("firewall_from", string(from), "firewall_to", string(next.Kind()))})
}

// ensureObserverLocked puts the observer table back after a foreign flush
// (`fw4 flush`, `firewall stop`, `nft flush ruleset` delete every table):
// without it the doctor is blind. An intact table is left as it is.
func (d *Daemon) ensureObserverLocked() {
	doc := d.doc
	if doc == nil || !d.cfg.Observe || len(d.router.LANDevices) == 0 {
		return
	}
	if err := observer.Ensure(d.router.LANDevices); err != nil {
		d.fail("install the observer table", err)
		return
	}
	doc.mu.Lock()
	doc.observing = true
	doc.mu.Unlock()
}
