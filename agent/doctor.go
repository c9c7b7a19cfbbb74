package agent

import (
	"github.com/vpnpass/vpnpass/internal/sortx"
	"github.com/vpnpass/vpnpass/netfilter/observer"

	"context"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/vpnpass/vpnpass/diagnose"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/fw"
)

// How often the doctor judges sessions, reads the observer and refreshes its
// view of the firewall (inspection is not free on a router). While a live
// session's server has answered but the session is not yet said to work,
// it judges every liveEvery, so vpn-ok follows the evidence within ~1 s.
const (
	judgeEvery = 2 * time.Second
	liveEvery  = time.Second
	factsEvery = 30 * time.Second
)

// doctor owns the conntrack tracker. The tracker is not safe for concurrent
// use: the doctor goroutine feeds it and the API reads under mu.
type doctor struct {
	mu      sync.Mutex
	tracker *diagnose.Tracker
	facts   diagnose.Context
	factsAt time.Time
	// What the last inspection was made from (factsFor): the status
	// cache's key, so the same inputs read the ruleset again neither there
	// nor here.
	inspKey   statusKey
	inspOK    bool
	observing bool
	stats     func() conntrack.WatchStats
	in        inboundDoctor // inbound.go
	// What the tracker's classifier was built from (classifierNow).
	classSeq  uint64
	classOK   bool
	classLANs []string
}

// startDoctor turns on accounting and the observer (as configured), then
// watches conntrack and judges sessions until ctx ends.
func (d *Daemon) startDoctor(ctx context.Context, wg *sync.WaitGroup) {
	d.mu.Lock()
	cfg, router := d.cfg, d.router
	d.mu.Unlock()
	doc := &doctor{tracker: diagnose.NewTracker(classifier(router.LANDevices))}
	doc.in.tracker = diagnose.NewInboundTracker(doc.tracker.Classifier)
	if cfg.Accounting {
		if changed, err := conntrack.EnableAccounting(); err != nil {
			d.fail("turn on conntrack accounting", err)
		} else if changed {
			d.record(&history.Event{Kind: history.KindConntrackAccountingOn, Severity: vpn.SeverityInfo,
				Message: "Turned on packet counting per connection (net.netfilter.nf_conntrack_acct), so vpnpass can tell \"sent but never answered\" from the counts."})
		}
	}
	if cfg.Observe && len(router.LANDevices) > 0 {
		if err := observer.Ensure(router.LANDevices); err != nil {
			d.fail("install the observer table", err)
		} else {
			doc.observing = true
			// The baseline now, before new traffic: the tracker's first
			// snapshot only records what was counted before it existed.
			if entries, err := readObserverCounts(); err == nil {
				lan, wan := splitInbound(entries)
				doc.tracker.Observe(lan, time.Now())
				doc.in.tracker.ObserveWAN(wan, time.Now())
			}
		}
	}
	w := conntrack.NewWatcher(conntrack.WatchConfig{OnOverrun: func(st conntrack.WatchStats) {
		d.record(&history.Event{Kind: history.KindConntrackOverrun, Severity: vpn.SeverityWarning,
			Message: "Too many new connections at once: some connection notifications were lost; vpnpass re-read the connection table and carries on.",
			Details: details("overruns", st.Overruns, "resyncs", st.Resyncs)})
	}})
	doc.stats = w.Stats
	d.doc = doc
	events := make(chan conntrack.Event, 1024)
	wg.Add(2)
	// No defers in these goroutines: a panic there ends the process.
	go func() {
		if err := w.Run(ctx, events); err != nil && ctx.Err() == nil {
			if ctNetlinkMissing(err) {
				d.noteNoCtNetlink() // one message naming the package
			} else {
				d.fail("watch conntrack", err)
			}
		}
		wg.Done()
	}()
	go func() {
		d.doctorLoop(ctx, events)
		wg.Done()
	}()
}

// classifier tells LAN hosts from the router's own addresses.
func classifier(lans []string) diagnose.Classifier {
	var c diagnose.Classifier
	c.Local, c.LAN = routerAddrs(lans)
	return c
}

func (d *Daemon) doctorLoop(ctx context.Context, events <-chan conntrack.Event) {
	tick := time.NewTicker(liveEvery)
	every := liveEvery
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			tick.Stop()
			return
		case ev := <-events:
			d.doc.mu.Lock()
			d.doc.tracker.Apply(ev)
			d.doc.in.tracker.Apply(ev)
			d.doc.mu.Unlock()
			every = pace(tick, every, liveEvery)
		case now := <-tick.C:
			d.doc.mu.Lock()
			pending := d.doc.tracker.Pending(now)
			d.doc.mu.Unlock()
			if pending || now.Sub(last) >= judgeEvery-liveEvery/2 {
				d.judge(now)
				last = now
			}
			// With no session at all nothing can be pending before the next
			// event (which brings the 1 s tick back) or judgement: tick
			// only at judgeEvery, half the wake-ups of a router at rest.
			d.doc.mu.Lock()
			rest := !pending && d.doc.tracker.Idle()
			d.doc.mu.Unlock()
			want := liveEvery
			if rest {
				want = judgeEvery
			}
			every = pace(tick, every, want)
		}
	}
}

// pace makes t tick every want (it ticks every cur) and returns want.
func pace(t *time.Ticker, cur, want time.Duration) time.Duration {
	if cur != want {
		t.Reset(want)
	}
	return want
}

// refreshFastPath reads again the flows that sit in a flowtable (fw4's
// flow_offloading): their packets produce no conntrack events, only the
// entry's counters move (docs/design.md#flow-offload).
func (d *Daemon) refreshFastPath(now time.Time) {
	doc := d.doc
	doc.mu.Lock()
	flows := doc.tracker.FastPathFlows()
	doc.mu.Unlock()
	if len(flows) == 0 {
		return
	}
	fresh, err := conntrack.Refresh(flows)
	if err != nil && d.limit.allow("doctor-refresh") {
		d.log.Warn("doctor: reading offloaded flows failed", "err", err)
	}
	doc.mu.Lock()
	doc.tracker.Refresh(fresh, now)
	doc.mu.Unlock()
}

// judge reads the observer, refreshes the firewall facts when stale, judges
// due sessions and records changed findings as vpn.finding events.
func (d *Daemon) judge(now time.Time) {
	doc := d.doc
	entries, wan := splitInbound(d.readObserver())
	d.refreshFastPath(now)
	facts := d.factsFor(now)
	d.mu.Lock()
	lans := d.router.LANDevices
	d.mu.Unlock()
	// The router's addresses change under the agent (a PPPoE reconnect or
	// DHCP renewal on the WAN, br-lan coming up after the agent at boot):
	// new flows are classified with the addresses of now.
	c := d.classifierNow(lans)
	doc.mu.Lock()
	doc.tracker.Classifier = c
	if entries != nil {
		doc.tracker.Observe(doc.in.tracker.WithoutInbound(entries), now)
	}
	facts.Now = now
	changed := doc.tracker.Judge(facts)
	doc.tracker.Expire(now)
	doc.mu.Unlock()
	d.recordFindings(changed)
	d.judgeInbound(now, wan, &c, &facts)
}

// recordFindings records findings that changed, one event each (the
// session doctor's and the inbound tracker's).
func (d *Daemon) recordFindings(changed []diagnose.Finding) {
	for i := range changed {
		f := &changed[i]
		d.record(&history.Event{Kind: history.KindVPNFinding, Severity: f.Severity, Protocol: string(f.Protocol),
			Host: f.Host, Peer: f.Peer, Message: f.Message,
			Details: details("code", string(f.Code), "advice", f.Advice, "params", f.Params)})
	}
}

// classifierNow returns the classifier for the router's addresses of now.
// It is built again (a link dump and two address dumps: ~16 KiB of garbage
// per judging tick at rest, most of the agent's idle allocation) only when
// the WAN watch heard a link or address change of any device since the last
// build, or cannot tell (no watch, not listening).
func (d *Daemon) classifierNow(lans []string) diagnose.Classifier {
	doc := d.doc
	var seq uint64
	ok := false
	if d.watcher != nil {
		seq, ok = d.watcher.ChangeSeq()
	}
	doc.mu.Lock()
	c, same := doc.tracker.Classifier, ok && doc.classOK && seq == doc.classSeq && slices.Equal(lans, doc.classLANs)
	doc.mu.Unlock()
	if same {
		return c
	}
	c = classifier(lans)
	doc.mu.Lock()
	doc.classSeq, doc.classOK, doc.classLANs = seq, ok, lans
	doc.mu.Unlock()
	return c
}

// readObserver reads the observer's counters (nil when not observing). A
// table someone removed is put back once and read again; the monitor's repair
// usually got there first.
func (d *Daemon) readObserver() []vpn.ObserverEntry {
	doc := d.doc
	doc.mu.Lock()
	observing := doc.observing
	doc.mu.Unlock()
	if !observing {
		return nil
	}
	entries, err := readObserverCounts()
	if err == nil {
		return entries
	}
	d.mu.Lock()
	d.ensureObserverLocked()
	d.mu.Unlock()
	if entries, err = readObserverCounts(); err != nil {
		d.fail("read the observer", err)
	}
	return entries
}

// factsFor returns what the diagnosis needs to know about this router,
// refreshed every factsEvery.
func (d *Daemon) factsFor(now time.Time) (facts diagnose.Context) {
	doc := d.doc
	doc.mu.Lock()
	fresh := now.Sub(doc.factsAt) < factsEvery
	facts = doc.facts
	doc.mu.Unlock()
	if fresh {
		return facts
	}
	d.mu.Lock()
	router, desired := d.router, d.cfg.Desired()
	d.mu.Unlock()
	doc.mu.Lock()
	observing := doc.observing
	doc.mu.Unlock()
	facts = diagnose.Context{Observing: observing, HostInfo: hostNamer(DefaultLeases)}
	if d.watcher != nil {
		if n, ok := d.watcher.Current(); ok {
			facts.NAT = diagnose.NATVerdict{Code: n.Code, Class: string(n.Class), Device: n.WANDevice,
				Address: first(n.Addresses), Upstream: upstreamName(n.Upstream.Model, n.Upstream.Address)}
		}
	}
	// The helper probe first: when it probes again (a throw-away table) the
	// generation it moved is already in the inspection's key.
	if rep, err := d.helps.get(); err == nil {
		facts.PPTPHelper = rep.PPTP.State
	}
	d.inspectFor(&facts, &router, desired)
	doc.mu.Lock()
	doc.facts, doc.factsAt = facts, now
	doc.mu.Unlock()
	return facts
}

// inspectFor adds the firewall's facts to facts: those of the last
// inspection while nothing it was made of changed (the nftables generation,
// config, router, WAN and LAN: statusKey), else a new inspection. At rest
// the ruleset is read and evaluated again only when it changed, not every
// factsEvery (most of a router's idle CPU).
func (d *Daemon) inspectFor(facts *diagnose.Context, router *Router, desired netfilter.Desired) {
	doc := d.doc
	k, reuse := d.statusKey()
	doc.mu.Lock()
	same, old := reuse && doc.inspOK && doc.inspKey.same(&k), doc.facts
	doc.mu.Unlock()
	if same {
		facts.RouterNATs, facts.Drops, facts.PPTPAssigned = old.RouterNATs, old.Drops, old.PPTPAssigned
		return
	}
	err := inspectFacts(facts, router, desired)
	if err != nil && d.limit.allow("doctor-inspect") {
		d.log.Warn("doctor: inspection failed", "err", err)
	}
	doc.mu.Lock()
	doc.inspKey, doc.inspOK = k, reuse && err == nil
	doc.mu.Unlock()
}

// inspectFacts adds what one inspection of the firewall tells the
// diagnosis (daemon and snapshot).
func inspectFacts(facts *diagnose.Context, r *Router, desired netfilter.Desired) error {
	ins, err := fw.Inspect(fw.InspectOptions{LANDevices: r.LANDevices, WANDevice: r.WAN.Primary(vpn.IPv4), Desired: desired})
	if err != nil {
		return err
	}
	facts.RouterNATs, facts.Drops, facts.PPTPAssigned = ins.Masquerade, dropRules(ins.Protocols), len(ins.PPTPAssignedBy) > 0
	return nil
}

// dropRules lists the footprint elements this router's firewall drops, for
// an arbitrary LAN host or for the hosts its exceptions name.
func dropRules(ps map[vpn.Protocol]netfilter.ProtoStatus) []diagnose.DropRule {
	blocks := func(v netfilter.Verdict) bool { return v == netfilter.Drop || v == netfilter.Reject }
	var out []diagnose.DropRule
	for _, p := range vpn.Toggled {
		for _, e := range ps[p].Elements {
			some := blocks(e.Verdict) && e.DecidedBy != nil
			for _, x := range e.Exceptions {
				some = some || blocks(x.Verdict)
			}
			if !some {
				continue
			}
			d := diagnose.DropRule{Element: e.Element, Verdict: e.Verdict, Exceptions: e.Exceptions}
			if e.DecidedBy != nil {
				d.DecidedBy = *e.DecidedBy
			}
			out = append(out, d)
		}
	}
	return out
}

// doctorView returns the findings (newest first) and sessions, for one host or all.
func doctorView(t *diagnose.Tracker, host netip.Addr) api.DoctorResult {
	res := api.DoctorResult{Findings: []diagnose.Finding{}, Sessions: []api.SessionView{}}
	for _, f := range t.Findings() {
		if !host.IsValid() || f.Host == host.String() {
			res.Findings = append(res.Findings, f)
		}
	}
	sortx.Stable(len(res.Findings), func(i, j int) bool { return res.Findings[i].LastSeen.After(res.Findings[j].LastSeen) }, func(i, j int) { res.Findings[i], res.Findings[j] = res.Findings[j], res.Findings[i] })
	for _, s := range t.Sessions() {
		if host.IsValid() && s.Key.Host != host {
			continue
		}
		res.Sessions = append(res.Sessions, api.SessionView{Protocol: s.Key.Protocol, Host: s.Key.Host.String(),
			Peer: s.Key.Peer.String(), Router: s.Router, Phase: s.Phase().String(), FirstSeen: s.FirstSeen.UTC(),
			LastSeen: s.LastSeen.UTC(), Flows: len(s.Flows)})
	}
	return res
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func upstreamName(model, addr string) string {
	switch {
	case model != "" && addr != "":
		return model + " at " + addr
	case model != "":
		return model
	}
	return addr
}
