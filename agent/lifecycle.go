package agent

import (
	"context"
	"sync"
	"time"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/agent/logx"
)

// RunLockWait is how long an agent or `vpnpass cleanup` waits for the run
// lock: procd SIGKILLs an agent 5 s after SIGTERM, so a holder is gone by then.
const RunLockWait = 10 * time.Second

// persistCheck is how often the agent looks whether a history copy is due;
// the interval itself (hours) comes from the config, re-read on SIGHUP.
const persistCheck = time.Minute

// persistEvery is the configured interval between copies; 0 = off.
func (d *Daemon) persistEvery() time.Duration {
	d.mu.Lock()
	h := d.cfg.HistoryPersistHours
	d.mu.Unlock()
	return time.Duration(h) * time.Hour
}

// restoreHistory puts the copy from flash in place of a missing live history
// (after a reboot). With persistence off nothing is restored: an old copy
// would bring back stale events.
func (d *Daemon) restoreHistory() {
	if d.cfg.HistoryPersistHours <= 0 {
		return
	}
	r, err := history.Restore(d.cfg.HistoryPath, d.cfg.HistoryPersistPath, time.Now())
	switch {
	case err != nil:
		d.fail("restore the history saved on flash", err)
	case r.Reset != nil:
		// Kept aside (newer format) or moved aside (corrupt): one event,
		// worded for each.
		lvl, msg, key := logx.LevelError, "saved history was corrupt: moved aside, history starts empty", "moved_to"
		text := "The history saved on flash was damaged (" + r.Reset.Reason + "); it was moved to " + r.Reset.MovedTo
		if r.Reset.Newer {
			lvl, msg, key = logx.LevelWarn, "saved history is of a newer vpnpass: kept aside, history starts empty", "kept_as"
			text = "The history saved on flash was not read: " + r.Reset.Reason + "; it was kept as " + r.Reset.MovedTo
		}
		d.log.Log(context.Background(), lvl, msg, key, r.Reset.MovedTo, "reason", r.Reset.Reason)
		d.record(&history.Event{Kind: history.KindHistoryReset, Severity: vpn.SeverityWarning,
			Message: text + " and the history starts empty.",
			Details: details("moved_to", r.Reset.MovedTo, "reason", r.Reset.Reason)})
	case r.From != "":
		d.log.Info("history restored from flash", "from", r.From, "to", d.cfg.HistoryPath)
	}
}

// startPersist copies the history to flash every history_persist_hours.
func (d *Daemon) startPersist(ctx context.Context, wg *sync.WaitGroup) {
	if d.store == nil {
		return
	}
	d.persister = history.NewPersister(d.store, d.cfg.HistoryPersistPath, time.Now())
	wg.Add(1)
	go func() { // no defers: a panic here ends the process (smaller code)
		t := time.NewTicker(persistCheck)
		for {
			select {
			case <-ctx.Done():
				t.Stop()
				wg.Done()
				return
			case now := <-t.C:
				if _, err := d.persister.Tick(now, d.persistEvery()); err != nil {
					d.fail("save the history to flash", err)
				}
			}
		}
	}()
}

// persistHistory copies the history at a clean stop (after the last event).
func (d *Daemon) persistHistory() {
	if d.persister == nil {
		return
	}
	if _, err := d.persister.Final(time.Now(), d.persistEvery()); err != nil {
		d.log.Error("could not save the history to flash at stop", "path", d.cfg.HistoryPersistPath, "err", err)
	}
}
