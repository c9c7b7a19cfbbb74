//go:build vpnpass_testhooks

package agent

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"time"
)

// statsFileEnv names a file the daemon rewrites every second with its
// goroutine count (one decimal number), so soak tests can see goroutines
// stay flat. Only in builds with the vpnpass_testhooks tag: the product
// exposes no such thing (issue 17 owns metrics).
const statsFileEnv = "VPNPASS_TEST_STATS_FILE"

func init() { testHooks = append(testHooks, writeStats) }

func writeStats(ctx context.Context, d *Daemon) {
	path := os.Getenv(statsFileEnv)
	if path == "" {
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		n := strconv.Itoa(runtime.NumGoroutine())
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(n+"\n"), 0o644); err == nil {
			_ = os.Rename(tmp, path)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
