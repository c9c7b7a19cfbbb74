package agent

import (
	"context"
	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/vpn"
	"sort"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/agent/config"
	"github.com/vpnpass/vpnpass/agent/wan"
	"github.com/vpnpass/vpnpass/helpers"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/fw"
)

// Sources are the probes a status is built from; injectable for tests.
type Sources struct {
	Inspect func(fw.InspectOptions) (fw.Inspection, error)
	Helpers func() (helpers.Report, error)
	WAN     func(ctx context.Context, probe bool) (wan.Nat, error)
	// Inbound judges the servers on the LAN; nil leaves status.inbound empty.
	Inbound func(fw.InboundOptions) (map[vpn.Protocol][]netfilter.InboundStatus, error)
}

// LiveSources probe the kernel of the calling thread's network namespace.
func LiveSources(cfg config.Config, networkConfig string) Sources {
	src := &wan.Netlink{Device: cfg.WANDevice}
	wcfg := wan.Config{PublicRanges: cfg.PublicRanges, NetworkConfig: networkConfig,
		Probe: wan.ProbeConfig{STUNServer: cfg.STUNServer, IGD: cfg.UPnPProbe, NATPMP: cfg.UPnPProbe}}
	return Sources{
		Inspect: fw.Inspect,
		Inbound: fw.InspectInbound,
		Helpers: func() (helpers.Report, error) { return helpers.Probe(helpers.Options{}) },
		WAN: func(ctx context.Context, probe bool) (wan.Nat, error) {
			return wan.Evaluate(ctx, src, wcfg, probe)
		},
	}
}

// StatusInput is what a status is computed for.
type StatusInput struct {
	LANDevices []string
	Desired    netfilter.Desired
	Drift      map[vpn.Protocol]bool
	// Servers are the VPN servers on the LAN to judge for status.inbound.
	Servers []fw.InboundServer
}

// CollectStatus builds a Status: WAN first (the inspection needs its device),
// then the firewalls, then the helpers.
func CollectStatus(ctx context.Context, src Sources, in StatusInput) (st api.Status, err error) {
	st = api.Status{Helpers: map[string]helpers.Info{}, FlowOffload: "none", Inbound: noInbound()}
	nat, err := src.WAN(ctx, false)
	if err != nil {
		return st, netfilter.Wrap("status: WAN", err)
	}
	st.WAN = nat
	if err := collectFirewall(&st, src, in, nat); err != nil {
		return st, netfilter.Wrap("status", err)
	}
	return st, nil
}

// collectFirewall fills in what the firewalls, the helpers and the inbound
// servers tell (CollectStatus wraps its error once).
func collectFirewall(st *api.Status, src Sources, in StatusInput, nat wan.Nat) error {
	ins, err := src.Inspect(fw.InspectOptions{LANDevices: in.LANDevices, WANDevice: nat.WANDevice,
		Desired: in.Desired, Drift: in.Drift})
	if err != nil {
		return err
	}
	also := ins.Detection.Also
	if also == nil {
		also = []netfilter.Kind{}
	}
	st.Backend = api.BackendStatus{Kind: ins.Detection.InCharge, Also: also}
	st.Protocols, st.Masquerade, st.FlowOffload = ins.Protocols, ins.Masquerade, ins.FlowOffload
	rep, err := src.Helpers()
	if err != nil {
		return err
	}
	slicex.Strings(&rep.PPTP.AssignedBy, ins.PPTPAssignedBy...)
	sort.StringSlice(rep.PPTP.AssignedBy).Sort()
	st.Helpers["pptp"], st.Helpers["gre"] = rep.PPTP, rep.GRE
	st.Inbound, err = collectInbound(src, in, nat)
	return err
}
