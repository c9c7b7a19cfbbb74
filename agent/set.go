package agent

import (
	"context"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/agent/config"
	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/fw"
	"github.com/vpnpass/vpnpass/vpn"
)

// Setting is one validated `set`: which protocol, to which mode, and who
// asked (recorded with the change).
type Setting struct {
	Protocol vpn.Protocol
	Mode     netfilter.Mode
	DryRun   bool
	By       api.Caller
}

// SetTarget is what a set changes: the firewall, the config (its modes are
// updated in place) and its file, and where the change is recorded.
type SetTarget struct {
	Firewall   *fw.Manager
	Config     *config.Config
	ConfigPath string
	Record     func(*history.Event)
}

// ParseSetting validates set's params.
func ParseSetting(p api.SetParams, by api.Caller) (s Setting, err error) {
	proto, err := vpn.ParseProtocol(p.Protocol)
	if err != nil {
		return s, err
	}
	mode, err := netfilter.ParseMode(p.Mode)
	if err != nil {
		return s, err
	}
	return Setting{Protocol: proto, Mode: mode, DryRun: p.DryRun, By: by}, nil
}

// Set is the one `set`, the daemon's and --direct's: persist the mode (so
// the daemon, now or when it starts, keeps it), apply it, and record who
// asked when the mode changed. A dry run only plans. The caller holds
// whatever guards t (the daemon's mutex).
func Set(t SetTarget, s Setting) (res api.SetResult, err error) {
	desired := t.Config.Desired()
	old := desired.Mode(s.Protocol)
	desired[s.Protocol] = s.Mode
	res.Plan = []netfilter.Change{}
	if s.DryRun {
		plan, err := t.Firewall.Plan(desired)
		res.Plan = append(res.Plan, plan...)
		res.Changed = setChanged(old, s.Mode, res.Plan)
		return res, err
	}
	if err := config.SetMode(t.ConfigPath, s.Protocol, s.Mode); err != nil {
		return res, err
	}
	t.Config.Modes = desired
	ch, err := t.Firewall.Apply(desired)
	res.Plan = append(res.Plan, ch...)
	res.Changed = setChanged(old, s.Mode, res.Plan)
	if old != s.Mode {
		ev := modeChangeEvent(s.Protocol, old, s.Mode, s.By.Details(), s.By.String())
		t.Record(&ev)
	}
	return res, err
}

// setChanged is what set's `changed` means: the configured mode changed, or
// the rules did (a repair of drifted rules changes them with the same mode).
func setChanged(old, mode netfilter.Mode, plan []netfilter.Change) bool {
	return old != mode || len(plan) > 0
}

// WithStatus adds the status after a set (not after a dry run) when it can
// be collected: the set is done whether or not it can.
func WithStatus(ctx context.Context, res api.SetResult, s Setting, status func(context.Context) (api.Status, error)) api.SetResult {
	if s.DryRun {
		return res
	}
	if st, err := status(ctx); err == nil {
		res.Status = &st
	}
	return res
}

// modeChangeEvent is passthrough.changed; details are from, to and who
// (origin, and user when known: an audit trail for routers an ISP also
// manages), byText says who for people.
func modeChangeEvent(p vpn.Protocol, from, to netfilter.Mode, who map[string]any, byText string) history.Event {
	det := details("from", string(from), "to", string(to))
	for k, v := range who {
		det[k] = v
	}
	return history.Event{Kind: history.KindPassthroughChanged, Severity: vpn.SeverityInfo, Protocol: string(p),
		Message: string(p) + " passthrough: " + string(from) + " → " + string(to) + " (" + byText + ")",
		Details: det}
}

// historyOptions are the history's bounds from the config.
func historyOptions(cfg *config.Config) history.Options {
	return history.Options{MaxBytes: int64(cfg.HistoryMaxKB) << 10,
		MaxAge: time.Duration(cfg.HistoryMaxDays) * 24 * time.Hour}
}

// OpenHistory opens the history for a process that runs without the daemon
// (a --direct set), first restored from flash as the daemon would, so a
// saved history is not shadowed by a fresh one. While the daemon runs it
// holds bbolt's lock: then this fails after history's lock timeout (1 s).
func OpenHistory(cfg config.Config) (*history.Store, error) {
	if cfg.HistoryPersistHours > 0 {
		if _, err := history.Restore(cfg.HistoryPath, cfg.HistoryPersistPath, time.Now()); err != nil {
			return nil, netfilter.Wrap("restore the history saved on flash", err)
		}
	}
	return history.Open(cfg.HistoryPath, historyOptions(&cfg))
}
