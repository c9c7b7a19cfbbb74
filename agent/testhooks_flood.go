//go:build vpnpass_testhooks

package agent

import (
	"context"
	"github.com/vpnpass/vpnpass/vpn"
	"os"
	"strconv"
	"time"

	"github.com/vpnpass/vpnpass/agent/history"
)

// Event flood for crash and throughput tests. Only in builds with the
// vpnpass_testhooks tag: with VPNPASS_TEST_EVENT_RATE=N in its environment
// the daemon appends N synthetic events per second to its history through
// the same path as every real event (Daemon.record), until it stops.
const (
	floodRateEnv = "VPNPASS_TEST_EVENT_RATE"
	// kindTestFlood exists only in test builds; the event is otherwise
	// the API's Event (seq, time, kind, severity, message, details).
	kindTestFlood = "test.flood"
	floodTick     = 10 * time.Millisecond
)

func init() { testHooks = append(testHooks, floodHistory) }

func floodHistory(ctx context.Context, d *Daemon) {
	v := os.Getenv(floodRateEnv)
	if v == "" {
		return
	}
	rate, err := strconv.Atoi(v)
	if err != nil || rate <= 0 {
		d.log.Error("test hook: "+floodRateEnv+" must be a positive integer (events per second)", "value", v)
		return
	}
	d.log.Warn("test hook: flooding the history with synthetic events", "kind", kindTestFlood, "per_second", rate)
	d.flood(ctx, rate)
}

// flood appends events so that by any tick rate×elapsed have been appended.
// When the store cannot keep up (Append blocks on a full queue) the debt is
// capped at one second's worth: the achieved rate is then the store's, and a
// later catch-up burst cannot distort a measurement.
func (d *Daemon) flood(ctx context.Context, rate int) {
	tick := time.NewTicker(floodTick)
	defer tick.Stop()
	start := time.Now()
	var sent int64
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			due := int64(now.Sub(start).Seconds() * float64(rate))
			sent = max(sent, due-int64(rate))
			for ; sent < due; sent++ {
				if sent%256 == 0 && ctx.Err() != nil {
					return
				}
				// Small on purpose: crash tests keep every event under the cap.
				d.record(&history.Event{Kind: kindTestFlood, Severity: vpn.SeverityInfo,
					Message: "flood " + strconv.FormatInt(sent, 10)})
			}
		}
	}
}
