//go:build vpnpass_testhooks

package agent

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/metrics"
	"strings"
	"syscall"
)

// memFileEnv names a file the daemon writes on each SIGUSR2 with its
// runtime/metrics memory classes, heap goal and goroutine count, without
// running a GC first: where the idle RSS goes, at the moment a benchmark
// reads /proc/<pid>/smaps. Only in builds with the vpnpass_testhooks tag.
const memFileEnv = "VPNPASS_TEST_MEM_FILE"

func init() { testHooks = append(testHooks, writeMem) }

func writeMem(ctx context.Context, d *Daemon) {
	path := os.Getenv(memFileEnv)
	if path == "" {
		return
	}
	usr2 := make(chan os.Signal, 1)
	signal.Notify(usr2, syscall.SIGUSR2)
	defer signal.Stop(usr2)
	for {
		select {
		case <-ctx.Done():
			return
		case <-usr2:
			_ = os.WriteFile(path, []byte(memReport()), 0o644)
		}
	}
}

// memReport lists every /memory/classes/ metric, the heap goal and the
// live heap of the last GC, and the goroutine count, one "name value" a line.
func memReport() string {
	var s []metrics.Sample
	for _, d := range metrics.All() {
		if strings.HasPrefix(d.Name, "/memory/classes/") || strings.HasPrefix(d.Name, "/gc/heap/") ||
			strings.HasPrefix(d.Name, "/gc/stack/") || strings.HasPrefix(d.Name, "/gc/scan/") ||
			d.Name == "/gc/cycles/total:gc-cycles" || d.Name == "/gc/gomemlimit:bytes" {
			s = append(s, metrics.Sample{Name: d.Name})
		}
	}
	metrics.Read(s)
	var b strings.Builder
	for _, m := range s {
		if m.Value.Kind() == metrics.KindUint64 {
			fmt.Fprintf(&b, "%s %d\n", m.Name, m.Value.Uint64())
		}
	}
	fmt.Fprintf(&b, "goroutines %d\n", runtime.NumGoroutine())
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	b.WriteString("\n")
	b.Write(buf)
	return b.String()
}
