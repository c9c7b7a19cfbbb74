package pollcost

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"
	"testing"

	"github.com/vpnpass/vpnpass/agent/cli"
)

// asCLIEnv makes the test binary run as the vpnpass command (cmd/vpnpass's
// main): the fallback when no release build of the target is in testdata.
const asCLIEnv = "VPNPASS_POLLCOST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLIEnv) == "1" {
		os.Exit(runCLI())
	}
	os.Exit(m.Run())
}

// cpuProfileEnv names a file for a CPU profile of the CLI run (the agent's,
// when the test binary is the agent): where its idle CPU goes.
const cpuProfileEnv = "VPNPASS_POLLCOST_CPUPROFILE"

// heapProfileEnv names a file for the agent's heap profile (after a GC) and,
// beside it (.goroutines, .memstats), its goroutine stacks and MemStats,
// written on each SIGUSR1 as <file>.<n>: where its memory at rest goes, and
// (two of them, pprof -base) what it allocates at rest.
const heapProfileEnv = "VPNPASS_POLLCOST_HEAPPROFILE"

func writeHeapProfile(path string) {
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		for n := 1; ; n++ {
			<-usr1
			path := path + "." + strconv.Itoa(n) // one set per signal: diff two with pprof -base
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			_ = os.WriteFile(path+".memstats", []byte(fmt.Sprintf(
				"HeapAlloc %d\nHeapInuse %d\nHeapIdle %d\nHeapReleased %d\nStackInuse %d\nStackSys %d\nMSpanSys %d\nMCacheSys %d\nGCSys %d\nBuckHashSys %d (grows with MemProfileRate=1)\nOtherSys %d\nSys %d\nNumGoroutine %d\n",
				m.HeapAlloc, m.HeapInuse, m.HeapIdle, m.HeapReleased, m.StackInuse, m.StackSys, m.MSpanSys, m.MCacheSys,
				m.GCSys, m.BuckHashSys, m.OtherSys, m.Sys, runtime.NumGoroutine())), 0o644)
			for name, file := range map[string]string{"heap": path, "goroutine": path + ".goroutines"} {
				if f, err := os.Create(file); err == nil {
					_ = pprof.Lookup(name).WriteTo(f, map[string]int{"heap": 0, "goroutine": 2}[name])
					f.Close()
				}
			}
		}
	}()
}

// runCLI is cmd/vpnpass's main: the agent must end cleanly on SIGTERM.
func runCLI() int {
	if path := os.Getenv(heapProfileEnv); path != "" {
		runtime.MemProfileRate = 1 // every allocation: the heap at rest is small
		writeHeapProfile(path)
	}
	if path := os.Getenv(cpuProfileEnv); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-ch; cancel() }()
	code := cli.Main(ctx, os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	cancel()
	return code
}
