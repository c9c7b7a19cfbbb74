package pollcost

import (
	"context"
	"os"
	"os/signal"
	"runtime/pprof"
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

// runCLI is cmd/vpnpass's main: the agent must end cleanly on SIGTERM.
func runCLI() int {
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
