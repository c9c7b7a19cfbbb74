package agent

import (
	"context"
	"github.com/vpnpass/vpnpass/internal/slicex"
	"slices"
	"sync"
	"time"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/netfilter"
)

// reconcileLoop repairs drift whenever the ruleset may have changed: on
// nftables monitor events, on a short poll when iptables is involved, on
// SIGHUP (config reload) and when asked (kick). It returns when ctx ends.
func (d *Daemon) reconcileLoop(ctx context.Context) {
	changes := d.watchRuleset(ctx)
	var poll *time.Ticker
	defer func() { keepTicker(poll, false, 0) }()
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	for {
		// The drift poll runs only while an iptables backend is in use
		// (nftables reports changes through the monitor): on fw4 the agent
		// no longer wakes every second for nothing. Every change of the
		// backends passes through this loop, so it is re-decided here.
		poll = keepTicker(poll, d.needsPoll(), d.opts.PollInterval)
		select {
		case <-ctx.Done():
			return
		case <-d.opts.Hup:
			d.reload()
		case <-changes:
			debounce.Reset(50 * time.Millisecond) // a reload is a burst of events
		case <-d.kick:
			d.repair(true)
		case <-debounce.C:
			d.repair(true)
		case <-tickC(poll):
			if d.needsPoll() {
				d.repair(false)
			}
		}
	}
}

// repair compares installed with desired and re-applies on drift. After a
// ruleset change (follow) it first re-detects the firewall in charge and
// puts back the observer: a foreign flush (`fw4 flush`) removes every table.
// Re-applying the same modes never clears conntrack entries: live VPN
// sessions survive any number of reloads.
func (d *Daemon) repair(follow bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if follow {
		d.followLocked()
		d.ensureObserverLocked()
	}
	if d.mgr == nil {
		return
	}
	plan, err := d.mgr.Plan(d.cfg.Desired())
	if err != nil {
		d.fail("check our rules for drift", err)
		return
	}
	if len(plan) == 0 {
		return
	}
	done := d.applyLocked("repair")
	if len(done) == 0 {
		return
	}
	protos := protocolsOf(done)
	if d.limit.allow("drift") {
		d.log.Info("repaired firewall drift", "changes", len(done), "protocols", protos)
	}
	d.record(&history.Event{Kind: history.KindFirewallDriftRepaired, Severity: vpn.SeverityWarning,
		Message: "Someone changed the firewall (e.g. a firewall reload) and removed vpnpass rules; they were put back.",
		Details: details("changes", len(done), "protocols", protos)})
}

// reload re-reads the config (SIGHUP) and applies what changed.
func (d *Daemon) reload() {
	d.mu.Lock()
	defer d.mu.Unlock()
	old := d.cfg
	d.cfg = d.loadConfig(old, false)
	d.stateVer++
	d.share.Store(d.cfg.ShareHosts)
	d.helps.forget()
	d.log.Info("config reloaded", "modes", d.cfg.Desired())
	if d.cfg.Backend != old.Backend || !slices.Equal(d.cfg.LANDevices, old.LANDevices) || d.cfg.WANDevice != old.WANDevice || d.mgr == nil || d.routerMoved() {
		var inForce netfilter.Desired
		if d.mgr != nil {
			inForce = d.mgr.Applied()
			if err := d.mgr.Cleanup(); err != nil {
				d.fail("remove rules before a backend change", err)
			}
		}
		d.setupLocked(inForce)
	} else {
		d.applyLocked("reload")
	}
	was, now := old.Desired(), d.cfg.Desired()
	for _, p := range vpn.Toggled {
		if was.Mode(p) != now.Mode(p) {
			ev := modeChangeEvent(p, was.Mode(p), now.Mode(p), details("origin", originConfig), "config reload")
			d.record(&ev)
		}
	}
}

// originConfig is the origin of a mode change that came with a config
// reload (uci commit + reload, LuCI's Save & Apply): no login is known.
const originConfig = "config"

// needsPoll: iptables has no change events, so its backends are polled.
func (d *Daemon) needsPoll() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mgr == nil {
		return false
	}
	for _, s := range d.mgr.Subs() {
		switch s.Backend.Kind() {
		case netfilter.KindFW3, netfilter.KindIptablesLegacy, netfilter.KindIptablesNft:
			return true
		}
	}
	return false
}

// keepTicker returns a running ticker when want (t, or a new one), else
// stops t and returns nil.
func keepTicker(t *time.Ticker, want bool, every time.Duration) *time.Ticker {
	switch {
	case want && t == nil:
		return time.NewTicker(every)
	case !want && t != nil:
		t.Stop()
		return nil
	}
	return t
}

// tickC is t's channel; nil (never ready) without a ticker.
func tickC(t *time.Ticker) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

func protocolsOf(ch []netfilter.Change) []string {
	seen := map[vpn.Protocol]bool{}
	out := []string{}
	for _, c := range ch {
		if c.Protocol != "" && !seen[c.Protocol] {
			seen[c.Protocol] = true
			slicex.Strings(&out, string(c.Protocol))
		}
	}
	return out
}

// logLimiter lets one log line (or error event) per key through per
// interval: drift that someone keeps causing must not flood logd or the
// history. It counts what it held back.
type logLimiter struct {
	every      time.Duration
	mu         sync.Mutex
	last       map[string]time.Time
	suppressed map[string]int
	now        func() time.Time // tests
}

func newLogLimiter(every time.Duration) *logLimiter {
	return &logLimiter{every: every, last: map[string]time.Time{}, suppressed: map[string]int{}, now: time.Now}
}

func (l *logLimiter) allow(key string) bool {
	ok, _ := l.pass(key)
	return ok
}

// pass reports whether key may go through now and, if so, how many times
// it was held back since it last went through.
func (l *logLimiter) pass(key string) (bool, int) {
	l.mu.Lock() // no defer: nothing below can panic (smaller code)
	now := l.now()
	if t, ok := l.last[key]; ok && now.Sub(t) < l.every {
		l.suppressed[key]++
		l.mu.Unlock()
		return false, 0
	}
	n := l.suppressed[key]
	delete(l.suppressed, key)
	l.last[key] = now
	l.mu.Unlock()
	return true, n
}
