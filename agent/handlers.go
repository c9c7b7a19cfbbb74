package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/agent/config"
	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/agent/probe"
	"github.com/vpnpass/vpnpass/agent/wan"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/fw"
)

// SetResult is the result of the API method `set`.
type SetResult struct {
	Changed bool               `json:"changed"`
	Plan    []netfilter.Change `json:"plan"`
	Status  *Status            `json:"status,omitempty"`
}

// server registers the API methods (docs/interface.md#local-api).
func (d *Daemon) server() *api.Server {
	s := api.NewServer()
	s.Logger = d.log
	s.Handle("status", d.handleStatus)
	s.Handle("set", d.handleSet)
	s.Handle("explain", d.handleExplain)
	s.Handle("nat", d.handleNat)
	s.Handle("history", d.handleHistory)
	s.Handle("reload", d.handleReload)
	s.Handle("doctor", d.handleDoctor)
	s.Handle("probe", handleProbe)
	return s
}

func (d *Daemon) handleStatus(ctx context.Context, _ json.RawMessage) (any, error) {
	st, err := d.status(ctx)
	if err != nil {
		return nil, api.Failed("%v", err)
	}
	return st, nil
}

// status builds the live status with the drift of our rules.
func (d *Daemon) status(ctx context.Context) (Status, error) {
	d.mu.Lock()
	cfg, router, mgr := d.cfg, d.router, d.mgr
	drift := map[vpn.Protocol]bool{}
	if mgr != nil {
		if ch, err := mgr.Plan(cfg.Desired()); err == nil {
			for _, c := range ch {
				drift[c.Protocol] = true
			}
		}
	}
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
	return CollectStatus(ctx, src, StatusInput{LANDevices: router.LANDevices, Desired: cfg.Desired(), Drift: drift})
}

type setParams struct {
	Protocol string `json:"protocol"`
	Mode     string `json:"mode"`
	DryRun   bool   `json:"dry_run"`
}

func (d *Daemon) handleSet(ctx context.Context, raw json.RawMessage) (any, error) {
	var p setParams
	if err := api.DecodeParams(raw, &p); err != nil {
		return nil, err
	}
	proto, err := vpn.ParseProtocol(p.Protocol)
	if err != nil {
		return nil, api.BadParams("%v", err)
	}
	mode, err := netfilter.ParseMode(p.Mode)
	if err != nil {
		return nil, api.BadParams("%v", err)
	}
	res, err := d.set(proto, mode, p.DryRun, api.CallerFrom(ctx))
	if err != nil {
		return nil, api.Failed("%v", err)
	}
	if !p.DryRun {
		st, err := d.status(ctx)
		if err == nil {
			res.Status = &st
		}
	}
	return res, nil
}

// set changes one protocol's mode: apply, persist, record who asked.
func (d *Daemon) set(p vpn.Protocol, mode netfilter.Mode, dry bool, by api.Caller) (SetResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mgr == nil {
		return SetResult{}, errNoFirewall
	}
	desired := d.cfg.Desired()
	old := desired.Mode(p)
	desired[p] = mode
	res := SetResult{Plan: []netfilter.Change{}}
	var err error
	if dry {
		res.Plan, err = d.mgr.Plan(desired)
		res.Changed = len(res.Plan) > 0
		return res, err
	}
	if err := config.SetMode(d.opts.ConfigPath, p, mode); err != nil {
		return res, err
	}
	d.cfg.Modes = desired
	ch, err := d.mgr.Apply(desired)
	if ch != nil {
		res.Plan = ch
	}
	res.Changed = len(ch) > 0 || old != mode
	if old != mode {
		d.recordModeChange(p, old, mode, by.Details(), by.String())
	}
	return res, err
}

type explainParams struct {
	Proto string `json:"proto"`
	Dst   string `json:"dst"`
	Dport int    `json:"dport"`
	Src   string `json:"src"`
}

func (d *Daemon) handleExplain(_ context.Context, raw json.RawMessage) (any, error) {
	var p explainParams
	if err := api.DecodeParams(raw, &p); err != nil {
		return nil, err
	}
	pk, err := ExplainPacket(p.Proto, p.Dst, p.Src, p.Dport)
	if err != nil {
		return nil, api.BadParams("%v", err)
	}
	d.mu.Lock()
	pk.OutIf = d.router.WAN.Primary(pk.Family)
	if len(d.router.LANDevices) > 0 {
		pk.InIf = d.router.LANDevices[0]
	}
	d.mu.Unlock()
	ex, err := fw.Explain(pk)
	if err != nil {
		return nil, api.Failed("%v", err)
	}
	return ex, nil
}

func (d *Daemon) handleNat(ctx context.Context, raw json.RawMessage) (any, error) {
	var p struct {
		Probe bool `json:"probe"`
	}
	if err := api.DecodeParams(raw, &p); err != nil {
		return nil, err
	}
	if d.watcher == nil {
		return nil, api.NotAvailable("the WAN watch is not running")
	}
	n, err := d.watcher.Refresh(ctx, p.Probe)
	if err != nil {
		return nil, api.Failed("%v", err)
	}
	return n, nil
}

func (d *Daemon) handleHistory(_ context.Context, raw json.RawMessage) (any, error) {
	var p struct {
		Since string `json:"since"`
		Kind  string `json:"kind"`
		Limit int    `json:"limit"`
	}
	if err := api.DecodeParams(raw, &p); err != nil {
		return nil, err
	}
	f, err := HistoryFilter(p.Since, p.Kind, p.Limit)
	if err != nil {
		return nil, api.BadParams("%v", err)
	}
	if d.store == nil {
		return nil, api.NotAvailable("the history could not be opened: see the agent's log")
	}
	if err := d.store.Flush(); err != nil {
		return nil, api.Failed("%v", err)
	}
	// The stored JSON is the Event shape already (TestHistoryHandlerShape):
	// no decoding and re-encoding of every event.
	evs, err := d.store.QueryJSON(f)
	if err != nil {
		return nil, api.Failed("%v", err)
	}
	return map[string]any{"events": evs}, nil
}

// HistoryFilter validates the history parameters (API and CLI).
func HistoryFilter(since, kind string, limit int) (history.Filter, error) {
	f := history.Filter{Kind: kind, Limit: limit}
	if since != "" {
		t, err := parseSince(since)
		if err != nil {
			return f, err
		}
		f.Since = t
	}
	if limit < 0 {
		return f, errBadLimit
	}
	return f, nil
}

func (d *Daemon) handleReload(_ context.Context, _ json.RawMessage) (any, error) {
	d.reload()
	return map[string]bool{"reloaded": true}, nil
}

// parseSince takes RFC 3339 or a Go duration back from now ("1h", "30m").
func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	dur, err := time.ParseDuration(s)
	if err != nil || dur < 0 {
		return time.Time{}, errBadSince
	}
	return time.Now().Add(-dur).UTC(), nil
}

func (d *Daemon) handleDoctor(_ context.Context, raw json.RawMessage) (any, error) {
	var p struct {
		Host string `json:"host"`
	}
	if err := api.DecodeParams(raw, &p); err != nil {
		return nil, err
	}
	host, err := parseHost(p.Host)
	if err != nil {
		return nil, api.BadParams("%v", err)
	}
	if d.doc == nil {
		return nil, api.NotAvailable("the conntrack watch is not running: see the agent's log")
	}
	d.doc.mu.Lock()
	defer d.doc.mu.Unlock()
	res := doctorView(d.doc.tracker, host)
	res.Source = "live"
	return res, nil
}

// parseHost validates an optional host address.
func parseHost(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return a, fmt.Errorf("host %q: must be an IP address", s)
	}
	return a.Unmap(), nil
}

// ProbeParams are the API's probe parameters.
type ProbeParams struct {
	Host     string `json:"host"`
	Protocol string `json:"protocol"`
}

func handleProbe(ctx context.Context, raw json.RawMessage) (any, error) {
	var p ProbeParams
	if err := api.DecodeParams(raw, &p); err != nil {
		return nil, err
	}
	res, err := RunProbe(ctx, p)
	if errors.Is(err, probe.ErrInvalid) {
		return nil, api.BadParams("%v", err)
	}
	if err != nil {
		return nil, api.Failed("%v", err)
	}
	return res, nil
}

// ProbeResult is the probe method's result.
type ProbeResult struct {
	Results []probe.Result `json:"results"`
}

// RunProbe checks a VPN server from the router itself (API and CLI).
func RunProbe(ctx context.Context, p ProbeParams) (ProbeResult, error) {
	host, err := netip.ParseAddr(p.Host)
	if err != nil {
		return ProbeResult{}, fmt.Errorf("%w: host %q must be an IP address", probe.ErrInvalid, p.Host)
	}
	res, err := probe.Run(ctx, host.Unmap(), []string{p.Protocol}, probe.Options{})
	if res == nil {
		res = []probe.Result{}
	}
	return ProbeResult{Results: res}, err
}
