package agent

import (
	"github.com/vpnpass/vpnpass/vpn"
	"time"

	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/agent/wan"
)

// openHistory opens the event store. A corrupt file has been moved aside by
// the store; we say so in the log (the store records history.reset). If the
// store cannot be opened at all the daemon runs on without history.
func (d *Daemon) openHistory() {
	s, err := history.Open(d.cfg.HistoryPath, historyOptions(d.cfg))
	d.historyOpen = true
	early := d.early
	d.early = nil
	if err != nil {
		d.log.Error("history unavailable: events are not kept", "path", d.cfg.HistoryPath, "err", err)
		return
	}
	if r := s.Reset(); r != nil && r.Newer {
		d.log.Warn("history file is of a newer vpnpass: kept aside, a fresh one started", "kept_as", r.MovedTo, "reason", r.Reason)
	} else if r != nil {
		d.log.Error("history file was corrupt: moved aside, a fresh one started", "moved_to", r.MovedTo, "reason", r.Reason)
	}
	d.store = s
	for _, ev := range early {
		d.record(ev)
	}
}

func (d *Daemon) closeHistory() {
	if d.store != nil {
		_ = d.store.Close()
	}
}

// record appends an event; history problems never stop the daemon.
func (d *Daemon) record(ev history.Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	if d.store == nil {
		if !d.historyOpen { // only Run's goroutine records this early
			d.early = append(d.early, ev)
		}
		return
	}
	if err := d.store.Append(ev); err != nil && d.limit.allow("history") {
		d.log.Error("history append failed", "err", err)
	}
}

// recordWAN maps the WAN watch's change events into the history.
func (d *Daemon) recordWAN(evs []wan.Event) {
	for _, e := range evs {
		sev := e.Severity
		if sev == "" {
			sev = vpn.SeverityInfo
		}
		d.log.Info(e.Message, "kind", e.Kind)
		d.record(history.Event{Kind: e.Kind, Severity: sev, Message: e.Message, Details: e.Details})
	}
}
