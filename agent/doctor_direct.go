package agent

import (
	"context"
	"time"

	"github.com/vpnpass/vpnpass/diagnose"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/agent/config"
	"github.com/vpnpass/vpnpass/conntrack"
)

// DoctorSnapshot is `vpnpass doctor` without a daemon: one conntrack dump of
// the VPN footprint, judged as it stands now. It cannot know what happened
// before the dump or what the firewall dropped (no observer history), so the
// result says source "snapshot".
func DoctorSnapshot(ctx context.Context, cfg config.Config, r Router, p Paths, host string) (res api.DoctorResult, err error) {
	h, err := parseHost(host)
	if err != nil {
		return res, err
	}
	flows, err := conntrack.DumpFootprint(0)
	if err != nil {
		return res, err
	}
	t := diagnose.NewTracker(classifier(r.LANDevices))
	now := time.Now()
	for _, f := range flows {
		t.Apply(conntrack.Event{Type: conntrack.EventDump, Flow: f, Time: now})
	}
	t.Apply(conntrack.Event{Type: conntrack.EventSyncDone, Time: now})
	facts := diagnose.Context{HostInfo: hostNamer(DefaultLeases)}
	_ = inspectFacts(&facts, &r, cfg.Desired()) // without them the judging still runs
	if n, err := LiveSources(cfg, p.Network).WAN(ctx, false); err == nil {
		facts.NAT = diagnose.NATVerdict{Code: n.Code, Class: string(n.Class), Device: n.WANDevice, Address: first(n.Addresses)}
	}
	// Judge everything as it stands: a snapshot has no later to wait for.
	facts.Now = now.Add(diagnose.QuietAfter)
	t.Judge(facts)
	res = doctorView(t, h)
	res.Source = "snapshot"
	return res, nil
}
