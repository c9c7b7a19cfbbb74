package agent

import (
	"errors"
	"github.com/vpnpass/vpnpass/agent/logx"
	"testing"
	"time"
)

// TestFailRecordsOncePerInterval: an error that repeats every judge tick (a
// blind observer) is recorded once per interval per step, and the next
// event says how many were held back; other steps are not held back.
func TestFailRecordsOncePerInterval(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := &Daemon{log: logx.Discard(), limit: newLogLimiter(time.Minute)}
	d.limit.now = func() time.Time { return now }
	boom := errors.New("no such table")
	for i := 0; i < 30; i++ { // one minute of failures every 2 s
		d.fail("read the observer", boom)
		now = now.Add(2 * time.Second)
	}
	d.fail("open the firewall", boom)
	if len(d.early) != 2 {
		t.Fatalf("%d error events recorded, want 2 (one per step): %+v", len(d.early), d.early)
	}
	now = now.Add(time.Minute)
	d.fail("read the observer", boom)
	if len(d.early) != 3 {
		t.Fatalf("%d events after the interval, want 3", len(d.early))
	}
	last := d.early[2]
	if got := last.Details["suppressed"]; got != 29 {
		t.Errorf("suppressed = %v, want 29 (%q)", got, last.Message)
	}
}
