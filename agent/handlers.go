package agent

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/vpnpass/vpnpass/internal/tstamp"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/agent/probe"
	"github.com/vpnpass/vpnpass/agent/wan"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/fw"
)

// server registers the API methods of the contract (api.Methods).
func (d *Daemon) server() *api.Server {
	s := api.NewServer()
	s.Logger = d.log
	api.Serve(s, api.MethodStatus, d, (*Daemon).handleStatus)
	api.Serve(s, api.MethodSet, d, (*Daemon).handleSet)
	api.Serve(s, api.MethodExplain, d, (*Daemon).handleExplain)
	api.Serve(s, api.MethodNat, d, (*Daemon).handleNat)
	api.ServeEncoded(s, api.MethodHistory, d, (*Daemon).handleHistory)
	api.Serve(s, api.MethodReload, d, (*Daemon).handleReload)
	api.Serve(s, api.MethodDoctor, d, (*Daemon).handleDoctor)
	api.Serve(s, api.MethodProbe, d, (*Daemon).handleProbe)
	api.Serve(s, api.MethodMetrics, d, (*Daemon).handleMetrics)
	return s
}

func (d *Daemon) handleStatus(ctx context.Context, _ *api.NoParams) (*api.Status, error) {
	st, err := d.status(ctx)
	if err != nil {
		return nil, apiError(api.CodeFailed, err)
	}
	return &st, nil
}

// buildStatus builds the live status with the drift of our rules.
func (d *Daemon) buildStatus(ctx context.Context, k *statusKey) (api.Status, error) {
	d.mu.Lock()
	cfg, router := d.cfg, d.router
	drift := Drift(d.mgr, cfg.Desired())
	d.mu.Unlock()
	src := LiveSources(cfg, d.opts.Paths.Network)
	src.Helpers = d.helps.get
	if d.watcher != nil {
		src.WAN = func(ctx context.Context, probe bool) (wan.Nat, error) {
			if n, ok := d.watcher.Current(); ok && !probe {
				return n, nil
			}
			return d.watcher.Refresh(ctx, probe)
		}
	}
	return CollectStatus(ctx, src, StatusInput{LANDevices: router.LANDevices, Desired: cfg.Desired(), Drift: drift,
		Servers: k.servers})
}

// Drift names the protocols whose rules m would change to reach desired
// (none without a manager, or when the plan cannot be made).
func Drift(m *fw.Manager, desired netfilter.Desired) map[vpn.Protocol]bool {
	drift := map[vpn.Protocol]bool{}
	if m == nil {
		return drift
	}
	if ch, err := m.Plan(desired); err == nil {
		for _, c := range ch {
			drift[c.Protocol] = true
		}
	}
	return drift
}

func (d *Daemon) handleSet(ctx context.Context, p *api.SetParams) (*api.SetResult, error) {
	s, err := ParseSetting(*p, api.CallerFrom(ctx))
	if err != nil {
		return nil, apiError(api.CodeBadParams, err)
	}
	res, err := d.set(s)
	if err != nil {
		return nil, apiError(api.CodeFailed, err)
	}
	// The answer acknowledges the change: its event must be on disk first,
	// not waiting for the history's next batch (a crash right after the
	// answer lost it: TestLifeSetAcknowledgedIsDurable).
	if d.store != nil && !s.DryRun {
		if err := d.store.Flush(); err != nil && d.limit.allow("history") {
			d.log.Error("history flush failed", "err", err)
		}
	}
	res = WithStatus(ctx, res, s, d.status)
	return &res, nil
}

// set is Set on the daemon's firewall and config, under its lock.
func (d *Daemon) set(s Setting) (none api.SetResult, _ error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mgr == nil {
		return none, errNoFirewall
	}
	d.stateVer++ // the config changes (the ruleset's generation follows)
	return Set(SetTarget{Firewall: d.mgr, Config: &d.cfg, ConfigPath: d.opts.ConfigPath, Record: d.record}, s)
}

func (d *Daemon) handleExplain(_ context.Context, p *api.ExplainParams) (*netfilter.Explanation, error) {
	pk, err := ExplainPacket(p.Proto, p.Dst, p.Src, p.Dport)
	if err != nil {
		return nil, apiError(api.CodeBadParams, err)
	}
	d.mu.Lock()
	pk.OutIf = d.router.WAN.Primary(pk.Family)
	if len(d.router.LANDevices) > 0 {
		pk.InIf = d.router.LANDevices[0]
	}
	d.mu.Unlock()
	ex, err := fw.Explain(pk)
	if err != nil {
		return nil, apiError(api.CodeFailed, err)
	}
	return &ex, nil
}

func (d *Daemon) handleNat(ctx context.Context, p *api.NatParams) (*wan.Nat, error) {
	if d.watcher == nil {
		return nil, api.NotAvailable("the WAN watch is not running")
	}
	n, err := d.watcher.Refresh(ctx, p.Probe)
	if err != nil {
		return nil, apiError(api.CodeFailed, err)
	}
	return &n, nil
}

// handleHistory answers the stored JSON of the events, which is the Event
// shape already (TestHistoryHandlerShape): no decoding and re-encoding.
func (d *Daemon) handleHistory(_ context.Context, p *api.HistoryParams) (any, error) {
	f, err := HistoryFilter(*p)
	if err != nil {
		return nil, apiError(api.CodeBadParams, err)
	}
	if d.store == nil {
		return nil, api.NotAvailable("the history could not be opened: see the agent's log")
	}
	if err := d.store.Flush(); err != nil {
		return nil, apiError(api.CodeFailed, err)
	}
	evs, err := d.store.QueryJSON(f)
	if err != nil {
		return nil, apiError(api.CodeFailed, err)
	}
	return map[string]any{"events": evs}, nil
}

// HistoryFilter validates the history parameters (API and CLI).
func HistoryFilter(p api.HistoryParams) (f history.Filter, err error) {
	f.Kind, f.Limit = p.Kind, p.Limit
	if p.Since != "" {
		t, err := parseSince(p.Since)
		if err != nil {
			return f, err
		}
		f.Since = t
	}
	if p.Until != "" {
		t, err := parseSince(p.Until)
		if err != nil {
			return f, errBadUntil
		}
		f.Until = t
	}
	if p.Protocol != "" {
		proto, err := vpn.ParseProtocol(p.Protocol)
		if err != nil {
			return f, err
		}
		f.Protocol = string(proto)
	}
	if p.Limit < 0 {
		return f, errBadLimit
	}
	if p.Before < 0 {
		return f, errBadBefore
	}
	f.Before = uint64(p.Before)
	return f, nil
}

func (d *Daemon) handleReload(context.Context, *api.NoParams) (*api.ReloadResult, error) {
	d.reload()
	return &api.ReloadResult{Reloaded: true}, nil
}

// parseSince takes RFC 3339 or a Go duration back from now ("1h", "30m").
func parseSince(s string) (none time.Time, _ error) {
	if t, err := tstamp.ParseRFC3339(s); err == nil {
		return t.UTC(), nil
	}
	dur, err := tstamp.ParseDuration(s)
	if err != nil || dur < 0 {
		return none, errBadSince
	}
	return time.Now().Add(-dur).UTC(), nil
}

func (d *Daemon) handleDoctor(_ context.Context, p *api.DoctorParams) (*api.DoctorResult, error) {
	host, err := parseHost(p.Host)
	if err != nil {
		return nil, apiError(api.CodeBadParams, err)
	}
	if d.doc == nil {
		return nil, api.NotAvailable("the conntrack watch is not running: see the agent's log")
	}
	d.doc.mu.Lock()
	defer d.doc.mu.Unlock()
	res := doctorView(d.doc.tracker, host)
	res.Findings = append(res.Findings, d.doc.inboundView(host)...)
	res.Source = "live"
	return &res, nil
}

// parseHost validates an optional host address.
func parseHost(s string) (none netip.Addr, _ error) {
	if s == "" {
		return none, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return a, badArg("host", s, "must be an IP address")
	}
	return a.Unmap(), nil
}

func handleProbe(ctx context.Context, p *api.ProbeParams) (*api.ProbeResult, error) {
	res, err := RunProbe(ctx, *p)
	if errors.Is(err, probe.ErrInvalid) {
		return nil, apiError(api.CodeBadParams, err)
	}
	if err != nil {
		return nil, apiError(api.CodeFailed, err)
	}
	return &res, nil
}

// RunProbe checks a VPN server from the router itself (API and CLI).
func RunProbe(ctx context.Context, p api.ProbeParams) (none api.ProbeResult, _ error) {
	host, err := netip.ParseAddr(p.Host)
	if err != nil {
		return none, fmt.Errorf("%w: host %q must be an IP address", probe.ErrInvalid, p.Host)
	}
	res, err := probe.Run(ctx, host.Unmap(), []string{p.Protocol}, probe.Options{})
	if res == nil {
		res = []probe.Result{}
	}
	return api.ProbeResult{Results: res}, err
}

// apiError is api.Failed("%v", err) (or another code) without fmt: the
// message is err's text.
func apiError(code string, err error) *api.Error {
	return &api.Error{Code: code, Message: err.Error()}
}
