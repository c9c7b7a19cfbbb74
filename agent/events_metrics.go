package agent

import (
	"context"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/agent/metrics"
	"github.com/vpnpass/vpnpass/diagnose"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
)

// fleet is what the daemon tells the tools an ISP already runs
// (docs/metrics.md): counters of its events for the metrics, the log line
// of each event and the ubus event of each event.
type fleet struct {
	start           time.Time
	version, commit string

	findings metrics.CounterVec // judged findings per code and protocol
	events   metrics.CounterVec // history events per kind
	errors   metrics.CounterVec // failures per area, suppressed ones too

	logGate *rateGate
	ubus    *ubusPublisher
}

// Log lines of events: a storm of findings must not flood logd's ring.
const (
	logRate  = 10
	logBurst = 50
)

// errorAreas are the values of vpnpass_errors_total's label; errorArea maps
// a failed step (Daemon.fail's words) to one: the first entry whose word
// the step contains wins, anything else is "other".
var (
	errorAreas = []string{"observer", "conntrack", "firewall", "history", "other"}
	errorArea  = []struct{ word, area string }{
		{"observer", "observer"}, {"conntrack", "conntrack"}, {"history", "history"},
		{"firewall", "firewall"}, {"rules", "firewall"}, {"passthrough", "firewall"}, {"drift", "firewall"},
	}
)

func newFleet(o Options, onUbusError func(error)) *fleet {
	f := &fleet{start: time.Now(), version: o.Version, commit: o.Commit,
		findings: metrics.CounterVec{Name: "vpnpass_findings_total", Labels: []string{"code", "protocol"},
			Help: "Findings judged, per code and protocol (a session's finding counts once per change)."},
		events: metrics.CounterVec{Name: "vpnpass_events_total", Labels: []string{"kind"},
			Help: "History events recorded, per kind."},
		errors: metrics.CounterVec{Name: "vpnpass_errors_total", Labels: []string{"area"},
			Help: "Operations that failed, per area, including those the log and history suppressed."},
		logGate: newRateGate(logRate, logBurst),
		ubus:    newUbusPublisher(onUbusError),
	}
	// Series exist from the start at 0, so increase() counts their first
	// event. Findings only for the toggled protocols: the others are rare.
	for _, e := range diagnose.Catalog {
		for _, p := range vpn.Toggled {
			f.findings.Init(string(e.Code), string(p))
		}
	}
	for _, k := range history.Kinds {
		f.events.Init(k)
	}
	for _, a := range errorAreas {
		f.errors.Init(a)
	}
	return f
}

// emit counts the event, logs it and sends it on ubus (once per event).
func (d *Daemon) emit(ev *history.Event) {
	if d.fleet == nil {
		return
	}
	d.fleet.events.Inc(ev.Kind)
	if ev.Kind == history.KindVPNFinding {
		if code, _ := ev.Details["code"].(string); code != "" && ev.Protocol != "" {
			d.fleet.findings.Inc(code, ev.Protocol)
		}
	}
	share := d.shareHosts()
	d.logEvent(ev, share)
	d.fleet.ubus.publish(ev, share)
}

// shareHosts is the config's share_hosts. record runs with and without mu
// held, so it is read from a copy kept in step with the config.
func (d *Daemon) shareHosts() bool { return d.share.Load() }

// countError counts a failed step for vpnpass_errors_total.
func (d *Daemon) countError(step string) {
	if d.fleet == nil {
		return
	}
	area := "other"
	for _, e := range errorArea {
		if strings.Contains(step, e.word) {
			area = e.area
			break
		}
	}
	d.fleet.errors.Inc(area)
}

func (d *Daemon) handleMetrics(context.Context, *api.NoParams) (*api.MetricsResult, error) {
	if d.fleet == nil {
		return nil, api.NotAvailable("metrics are not kept by this agent")
	}
	return &api.MetricsResult{Text: d.metricsText(time.Now())}, nil
}

// metricsText renders every family (docs/metrics.md lists them). No label
// ever holds an address, host name or MAC, whatever share_hosts says.
func (d *Daemon) metricsText(now time.Time) string {
	f := d.fleet
	w := &metrics.Writer{}
	w.Family("vpnpass_build_info", metrics.Gauge, "The agent's version; always 1.")
	w.Sample("vpnpass_build_info", 1, "version", f.version, "commit", f.commit, "goarch", runtime.GOARCH)
	w.Family("vpnpass_start_time_seconds", metrics.Gauge, "When the agent started, in seconds since the Unix epoch.")
	w.Sample("vpnpass_start_time_seconds", float64(f.start.UnixNano())/1e9)
	w.Family("vpnpass_uptime_seconds", metrics.Gauge, "How long the agent has been running.")
	w.Sample("vpnpass_uptime_seconds", now.Sub(f.start).Seconds())
	f.findings.Write(w)
	f.events.Write(w)
	w.Family("vpnpass_drift_repairs_total", metrics.Counter, "Times the agent put back rules someone removed (firewall.drift_repaired).")
	w.Sample("vpnpass_drift_repairs_total", float64(f.events.Get(history.KindFirewallDriftRepaired)))
	f.errors.Write(w)
	d.writeModes(w)
	d.writeNAT(w)
	d.writeSessions(w)
	f.writeOutputs(w)
	return w.String()
}

// writeModes: the configured mode per protocol, one series per mode.
func (d *Daemon) writeModes(w *metrics.Writer) {
	d.mu.Lock()
	desired := d.cfg.Desired()
	d.mu.Unlock()
	w.Family("vpnpass_passthrough_mode", metrics.Gauge, "1 for the configured passthrough mode of each protocol, else 0.")
	for _, p := range vpn.Toggled {
		for _, m := range []netfilter.Mode{netfilter.ModeAllow, netfilter.ModeBlock, netfilter.ModeDefault} {
			w.Sample("vpnpass_passthrough_mode", b2f(desired[p] == m), "protocol", string(p), "mode", string(m))
		}
	}
}

// writeNAT: the WAN verdict, one series per code (all 0 when unknown).
func (d *Daemon) writeNAT(w *metrics.Writer) {
	var code vpn.NATCode
	if d.watcher != nil {
		if n, ok := d.watcher.Current(); ok {
			code = n.Code
		}
	}
	w.Family("vpnpass_nat_verdict", metrics.Gauge, "1 for the WAN's NAT verdict code, else 0 (all 0: no IPv4 on the WAN or not known yet).")
	for _, c := range []vpn.NATCode{vpn.NATOK, vpn.NATDouble, vpn.NATCGNAT, vpn.NATIPv4Sharing} {
		w.Sample("vpnpass_nat_verdict", b2f(code == c), "code", string(c))
	}
}

// writeSessions: the sessions the doctor tracks now, and the watch's health.
func (d *Daemon) writeSessions(w *metrics.Writer) {
	counts := map[vpn.Protocol]*[3]int{}
	for _, p := range vpn.All {
		counts[p] = &[3]int{}
	}
	var st struct {
		received, overruns, resyncs, decode uint64
		filter, observing                   bool
	}
	if doc := d.doc; doc != nil {
		doc.mu.Lock()
		sessionStates(doc.tracker, counts)
		st.observing = doc.observing
		stats := doc.stats
		doc.mu.Unlock()
		if stats != nil {
			s := stats()
			st.received, st.overruns, st.resyncs, st.decode, st.filter = s.Received, s.Overruns, s.Resyncs, s.DecodeErrors, s.KernelFilter
		}
	}
	w.Family("vpnpass_sessions", metrics.Gauge, "VPN sessions tracked now, per protocol and state (working: vpn-ok; failed: a failure finding; pending: not judged yet).")
	for _, p := range vpn.All {
		for i, state := range []string{"working", "failed", "pending"} {
			w.Sample("vpnpass_sessions", float64(counts[p][i]), "protocol", string(p), "state", state)
		}
	}
	counter(w, "vpnpass_conntrack_events_total", "Conntrack event messages the watch read.", st.received)
	counter(w, "vpnpass_conntrack_overruns_total", "Times the kernel dropped conntrack events (ENOBUFS).", st.overruns)
	counter(w, "vpnpass_conntrack_resyncs_total", "Conntrack table dumps taken after an overrun.", st.resyncs)
	counter(w, "vpnpass_conntrack_decode_errors_total", "Conntrack messages the watch could not decode.", st.decode)
	w.Family("vpnpass_conntrack_kernel_filter", metrics.Gauge, "1 when the kernel-side (BPF) footprint filter is attached to the watch.")
	w.Sample("vpnpass_conntrack_kernel_filter", b2f(st.filter))
	w.Family("vpnpass_observer_active", metrics.Gauge, "1 when the observer counts VPN packets in the forward path.")
	w.Sample("vpnpass_observer_active", b2f(st.observing))
}

// sessionStates counts the tracker's sessions per protocol: working,
// failed, pending. The tracker is the caller's, under its lock.
func sessionStates(t *diagnose.Tracker, counts map[vpn.Protocol]*[3]int) {
	state := map[string]int{} // session key → 1 working, 2 failed
	for _, f := range t.Findings() {
		k := string(f.Protocol) + "|" + f.Host + "|" + f.Peer
		if f.Code == diagnose.CodeOK {
			state[k] = 1
		} else if state[k] == 0 {
			state[k] = 2
		}
	}
	for _, s := range t.Sessions() {
		c := counts[s.Key.Protocol]
		if c == nil {
			continue
		}
		switch state[string(s.Key.Protocol)+"|"+s.Key.Host.String()+"|"+s.Key.Peer.String()] {
		case 1:
			c[0]++
		case 2:
			c[1]++
		default:
			c[2]++
		}
	}
}

// writeOutputs: how the events' ways out are doing.
func (f *fleet) writeOutputs(w *metrics.Writer) {
	var sent, failed, dropped uint64
	if f.ubus != nil {
		sent, failed, dropped = f.ubus.sent.Load(), f.ubus.failed.Load(), f.ubus.dropped.Load()
	}
	counter(w, "vpnpass_ubus_events_sent_total", "Events sent as ubus events vpnpass.<kind>.", sent)
	counter(w, "vpnpass_ubus_events_failed_total", "ubus send calls that failed.", failed)
	counter(w, "vpnpass_ubus_events_dropped_total", "Events not sent on ubus: over the rate limit or queue full.", dropped)
	counter(w, "vpnpass_log_events_suppressed_total", "Event log lines held back by the rate limit.", f.logGate.refused())
}

func counter(w *metrics.Writer, name, help string, v uint64) {
	w.Family(name, metrics.Counter, help)
	w.Sample(name, float64(v))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// startMetrics rewrites the textfile every metrics_interval while
// metrics_textfile is set (both re-read on reload), and removes it at stop:
// a stopped agent's series disappear rather than freeze.
func (d *Daemon) startMetrics(ctx context.Context, wg *sync.WaitGroup) {
	if d.fleet == nil {
		return
	}
	wg.Add(1)
	go func() { // no defers: a panic here ends the process (smaller code)
		var last string
		t := time.NewTimer(0)
		for {
			select {
			case <-ctx.Done():
				removeTextfile(last)
				t.Stop()
				wg.Done()
				return
			case now := <-t.C:
				d.mu.Lock()
				path, every := d.cfg.MetricsTextfile, time.Duration(d.cfg.MetricsInterval)*time.Second
				d.mu.Unlock()
				if path != last {
					removeTextfile(last)
					last = path
				}
				if path != "" {
					if err := metrics.WriteTextfile(path, d.metricsText(now)); err != nil {
						d.fail("write the metrics textfile", err)
					}
				}
				t.Reset(max(every, time.Second))
			}
		}
	}()
}

// removeTextfile removes our textfile; a failure leaves a file the next
// agent overwrites, and node-exporter's mtime metric shows its age.
func removeTextfile(path string) {
	if path != "" {
		_ = os.Remove(path)
	}
}
