// Package agent is the vpnpass daemon as a library: it composes the kernel
// packages (netfilter, conntrack, helpers) with the config, the history and
// the local API, and keeps the firewall as configured.
package agent

import (
	"context"
	"errors"
	"fmt"
	"github.com/vpnpass/vpnpass/agent/logx"
	"github.com/vpnpass/vpnpass/vpn"
	"io/fs"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/agent/config"
	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/agent/runlock"
	"github.com/vpnpass/vpnpass/agent/wan"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/fw"
)

// Options configure a daemon.
type Options struct {
	_          [0]func() // not comparable: no equality function in the binary
	ConfigPath string
	SocketPath string
	Paths      Paths
	Logger     *logx.Logger
	// PollInterval is how often iptables backends are checked for drift
	// (nftables changes arrive as monitor events); 0 = 1 s.
	PollInterval time.Duration
	// Hup delivers SIGHUP (config reload); nil = none.
	Hup <-chan struct{}
	// Version and Commit name the build in vpnpass_build_info.
	Version, Commit string
}

// Daemon is a running agent.
type Daemon struct {
	opts  Options
	log   *logx.Logger
	limit *logLimiter

	mu      sync.Mutex // guards everything below and serialises firewall changes
	cfg     config.Config
	router  Router
	mgr     *fw.Manager
	store   *history.Store
	watcher *wan.Watcher

	doc   *doctor       // conntrack watch and diagnosis; nil until started
	helps *helperCache  // helper probes, reused for a few minutes
	kick  chan struct{} // asks the reconcile loop to look now
	ready bool          // the first setup is done (guarded by mu)

	// early holds events recorded before the history was opened (problems
	// of the config that names the history); openHistory writes them.
	early       []history.Event
	historyOpen bool // openHistory has run (whether or not it succeeded)
	// persister copies the history to flash (nil without a history)
	persister *history.Persister
	// noCtNetlink: the missing kmod-nf-conntrack-netlink was reported
	noCtNetlink atomic.Bool
	// fleet counts, logs and publishes events (events_metrics.go); share
	// is the config's share_hosts, readable without mu.
	fleet *fleet
	share atomic.Bool
	// probes guards probe from remote callers (probeguard.go)
	probes *probeGuard
	// stateVer counts changes of cfg, router and mgr (guarded by mu):
	// part of the status cache's key (statuscache.go).
	stateVer uint64
	statuses statusCache
}

// Run starts the daemon and blocks until ctx ends; then it removes what it
// added and returns. It only fails when it cannot start at all (no
// permission, socket in use); later failures are logged and recorded.
func Run(ctx context.Context, o Options) error {
	o.setDefaults()
	d := &Daemon{opts: o, log: o.Logger, limit: newLogLimiter(time.Minute), kick: make(chan struct{}, 1), helps: newHelperCache()}
	d.probes = newProbeGuard(d.probeInward)
	d.cfg = d.loadConfig(config.Defaults(), true)
	d.share.Store(d.cfg.ShareHosts)
	d.fleet = newFleet(o, d.ubusFailed)
	defer d.fleet.ubus.close(2 * time.Second) // after agent.stopped
	// The socket first: a second daemon must refuse before it touches the
	// history (waiting for its lock, removing a compaction in progress).
	ln, err := api.ListenUnix(o.SocketPath)
	if errors.Is(err, fs.ErrPermission) {
		// Not root: nothing else would work either (netlink needs
		// CAP_NET_ADMIN). One clear line; procd gives up after 5 tries.
		return fmt.Errorf("local API: %w: the agent must run as root (/etc/init.d/vpnpass start)", err)
	}
	if err != nil {
		return netfilter.Wrap("local API", err) // err names the socket
	}
	// The run lock before anything else of ours: an old agent still shutting
	// down (rc.common's stop does not wait) or a running cleanup would
	// otherwise remove what we install, and hold the history's file lock.
	lock, err := runlock.Acquire(runlock.PathFor(o.SocketPath), RunLockWait)
	if err != nil {
		ln.Close()
		return netfilter.Wrap("wait for the previous agent to exit", err)
	}
	defer d.stopHistory(lock)
	d.restoreHistory()
	d.openHistory()
	d.record(&history.Event{Kind: history.KindAgentStarted, Severity: vpn.SeverityInfo, Message: "vpnpass agent started"})

	var wg sync.WaitGroup
	d.startWAN(ctx, &wg)
	d.startPersist(ctx, &wg)
	d.startTestHooks(ctx, &wg)
	d.installAtStart()
	d.startDoctor(ctx, &wg)
	d.startMetrics(ctx, &wg)
	// Serve only now: a client that gets an answer sees the modes applied.
	// (The socket exists already, so early clients wait in its backlog.)
	srv := d.server()
	wg.Add(1)
	go func() { _ = srv.Serve(ln); wg.Done() }() // no defer: a panic here ends the process
	d.reconcileLoop(ctx)

	srv.Close()
	wg.Wait()
	d.shutdown()
	return nil
}

// setDefaults fills what the caller left zero (in place: Options is big).
func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = logx.Default()
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.Paths.Network == "" && o.Paths.Firewall == "" && o.Paths.Root == "" { // unset (Paths is not comparable)
		o.Paths = DefaultPaths()
	}
	for _, f := range testPaths {
		f(&o.Paths)
	}
}

// installAtStart puts the configured modes in place before the API serves.
// Rules an earlier run left are adopted, not removed first: a restart hands
// them over (runlock.Handover), and after a crash (kill -9, power cut) the
// desired state is applied over them in one batch (nftables: our table
// replaced atomically; iptables: the difference), so VPN traffic never
// meets a router without our rules and the restart converges sooner. Only
// then is whatever the new firewall does not manage removed (fw.CleanupBeside):
// a tool no longer in use, probe tables a killed probe left, an observer no
// longer wanted. Untagged rules are never touched.
func (d *Daemon) installAtStart() {
	handover := runlock.HandingOver(d.opts.SocketPath)
	d.mu.Lock()
	// The configured modes count as in force: at boot there are no flows to
	// judge again, and at a restart (upgrade, rc.common restart) the flows
	// were set up under these same modes, so clearing them would only cut
	// live VPN sessions. A mode changed while no agent ran is the exception:
	// its old flows live on until they end.
	det, opened := d.setupLocked(d.cfg.Desired())
	d.ready = true
	observe := d.cfg.Observe && len(d.router.LANDevices) > 0
	if !opened {
		// No manager to adopt with: remove everything of ours, as before.
		if err := fw.CleanupAll(d.opts.Paths.Root); err != nil {
			d.fail("cleanup of an earlier run", err)
		}
	} else if err := fw.CleanupBeside(d.mgr, det, d.opts.Paths.Root, observe); err != nil {
		d.fail("cleanup of an earlier run", err)
	}
	d.mu.Unlock()
	if handover {
		if err := runlock.EndHandover(d.opts.SocketPath); err != nil {
			d.fail("end the restart handover", err)
		}
		d.log.Info("adopted the rules of the agent before (restart)")
	}
}

// setupLocked resolves the router, opens the firewall and applies the modes.
// baseline is the modes in force before (nil: none of ours); only protocols
// whose configured mode differs from it have their conntrack entries cleared.
// It returns the detection and whether the firewall could be opened.
func (d *Daemon) setupLocked(baseline netfilter.Desired) (fw.Detection, bool) {
	r, err := ResolveRouter(d.cfg, d.opts.Paths)
	if err != nil {
		d.fail("find the router's devices", err)
	}
	d.router = r
	d.stateVer++
	o := FirewallOptions(d.cfg, r, d.opts.Paths, d.tolerateNoCtNetlink(ForgetFlows))
	o.Baseline = baseline
	m, det, err := fw.Open(o)
	if err != nil {
		d.closeManager()
		d.fail("open the firewall", err)
		return det, false
	}
	d.closeManager()
	d.mgr = m
	d.log.Info("firewall", "in_charge", det.InCharge, "also", det.Also, "lan", r.LANDevices, "wan", r.WAN, "unresolved", r.Unresolved)
	d.applyLocked("start")
	return det, true
}

// applyLocked brings the firewall to the configured modes.
func (d *Daemon) applyLocked(why string) []netfilter.Change {
	if d.mgr == nil {
		return nil
	}
	ch, err := d.mgr.Apply(d.cfg.Desired())
	if err != nil {
		d.fail("apply passthrough modes ("+why+")", err)
	}
	return ch
}

// shutdown removes everything we added and records the stop.
func (d *Daemon) shutdown() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if runlock.HandingOver(d.opts.SocketPath) {
		d.closeManager()
		d.record(&history.Event{Kind: history.KindAgentStopped, Severity: vpn.SeverityInfo,
			Message: "vpnpass agent stopped for a restart; its rules stay for the next agent"})
		return
	}
	if d.mgr != nil {
		if err := d.mgr.Cleanup(); err != nil {
			d.fail("remove our rules at stop", err)
		}
	}
	if err := fw.CleanupAll(d.opts.Paths.Root); err != nil {
		d.fail("final cleanup", err)
	}
	d.record(&history.Event{Kind: history.KindAgentStopped, Severity: vpn.SeverityInfo, Message: "vpnpass agent stopped; its rules were removed"})
}

// loadConfig reads the config; bad values are logged with their line and
// recorded, keeping last's value (the safe defaults at start).
func (d *Daemon) loadConfig(last config.Config, first bool) config.Config {
	cfg, problems, err := config.Reload(d.opts.ConfigPath, last)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && first {
			d.log.Warn("no config file: using the defaults (every protocol default)", "path", d.opts.ConfigPath)
			return cfg
		}
		d.fail("read the config (keeping the last good one)", err)
		return cfg
	}
	for _, p := range problems {
		d.log.Warn("config problem", "problem", p.String())
		d.record(&history.Event{Kind: history.KindConfigInvalid, Severity: vpn.SeverityWarning,
			Message: p.String(), Details: details("file", p.File, "line", p.Line, "option", p.Option, "value", p.Value)})
	}
	return cfg
}

// fail logs and records an error event, both rate-limited per step: a
// failure that repeats every few seconds (a blind observer, a firewall that
// rejects us) must not push the real events out of the history. The first
// event after a quiet interval says how many were suppressed.
func (d *Daemon) fail(step string, err error) {
	d.countError(step)
	ok, suppressed := d.limit.pass(step)
	if !ok {
		return
	}
	d.log.Error(step, "err", err, "suppressed", suppressed)
	ev := history.Event{Kind: history.KindError, Severity: vpn.SeverityError,
		Message: "could not " + step + ": " + err.Error()}
	if suppressed > 0 {
		ev.Message += " (" + strconv.Itoa(suppressed) + " more like it in the last " + d.limit.every.String() + ")"
		ev.Details = details("suppressed", suppressed)
	}
	d.record(&ev)
}

// closeManager releases the current manager's netlink sockets (not its rules).
func (d *Daemon) closeManager() {
	if d.mgr != nil {
		d.mgr.Close()
		d.mgr = nil
		d.stateVer++
	}
}

// stopHistory is Run's last word (deferred, also on a panic): save the
// history to flash, close it, then let the next agent in. One defer
// instead of three: smaller code.
func (d *Daemon) stopHistory(lock *runlock.Lock) {
	d.persistHistory()
	d.closeHistory()
	lock.Release()
}
