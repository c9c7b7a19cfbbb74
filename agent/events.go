package agent

import (
	"errors"
	"io/fs"
	"path/filepath"
	"syscall"
	"time"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/agent/wan"
)

// openHistory opens the event store. A corrupt file has been moved aside by
// the store; we say so in the log (the store records history.reset). If the
// store cannot be opened at all the daemon runs on without history.
func (d *Daemon) openHistory() {
	opts, path := historyOptions(&d.cfg), d.cfg.HistoryPath
	opts.OnError = func(err error) { // on the store's goroutine: d.cfg is not read there
		if ok, suppressed := d.limit.pass("write the history"); ok {
			d.log.Error("history write failed: events are lost; "+historyFix(path, err), "err", err, "suppressed", suppressed)
		}
	}
	s, err := history.Open(d.cfg.HistoryPath, opts)
	d.historyOpen = true
	early := d.early
	d.early = nil
	if err != nil {
		d.log.Error("history unavailable: events are not kept; "+historyFix(d.cfg.HistoryPath, err), "path", d.cfg.HistoryPath, "err", err)
		for i := range early { // they still count, log and go out on ubus
			d.emit(&early[i])
		}
		return
	}
	if r := s.Reset(); r != nil && r.Newer {
		d.log.Warn("history file is of a newer vpnpass: kept aside, a fresh one started", "kept_as", r.MovedTo, "reason", r.Reason)
	} else if r != nil {
		d.log.Error("history file was corrupt: moved aside, a fresh one started", "moved_to", r.MovedTo, "reason", r.Reason)
	}
	d.store = s
	for i := range early {
		d.record(&early[i])
	}
}

func (d *Daemon) closeHistory() {
	if d.store != nil {
		_ = d.store.Close()
	}
}

// record appends an event; history problems never stop the daemon. The
// event comes by pointer (one copy here instead of one at every call site)
// and is copied: the caller's stays as it was (Append stamps Seq and Time).
func (d *Daemon) record(in *history.Event) {
	ev := *in
	if d.store == nil {
		if !d.historyOpen { // only Run's goroutine records this early
			if ev.Time.IsZero() {
				ev.Time = time.Now().UTC()
			}
			d.early = append(d.early, ev) // emitted when replayed
			return
		}
		d.emit(&ev)
		return
	}
	d.emit(&ev)
	// The store stamps the time: it follows clock steps (history/clock.go).
	if err := d.store.Append(&ev); err != nil && d.limit.allow("history") {
		d.log.Error("history append failed", "err", err)
	}
}

// details builds an event's details from keys and values in turn: one
// map-assign site instead of one per key in every literal (smaller code).
// Keys are string constants at every call site.
func details(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// recordWAN maps the WAN watch's change events into the history.
func (d *Daemon) recordWAN(evs []wan.Event) {
	for _, e := range evs {
		sev := e.Severity
		if sev == "" {
			sev = vpn.SeverityInfo
		}
		d.record(&history.Event{Kind: e.Kind, Severity: sev, Message: e.Message, Details: e.Details})
	}
}

// ubusFailed logs a failed `ubus send` (ubusd restarting), once a minute.
func (d *Daemon) ubusFailed(err error) {
	if d.limit.allow("ubus-send") {
		d.log.Warn("ubus event not sent", "err", err)
	}
}

// historyFix names what to do about a history file that cannot be written.
// The daemon runs on without it: passthrough does not depend on history.
func historyFix(path string, err error) string {
	dir := filepath.Dir(path)
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return "the filesystem of " + dir + " is full: free space there, lower history_max_kb, or set history_path on another filesystem"
	case errors.Is(err, syscall.EROFS):
		return dir + " is read-only: set history_path to a writable place (the default /var/lib/vpnpass is on tmpfs)"
	case errors.Is(err, fs.ErrPermission):
		return dir + " is not writable by the agent: run it as root (procd does) or set history_path elsewhere"
	case errors.Is(err, history.ErrLocked):
		return "another vpnpass process holds it: stop it (/etc/init.d/vpnpass stop)"
	}
	return "check history_path (" + path + ")"
}
