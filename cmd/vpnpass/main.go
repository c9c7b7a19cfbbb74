// Command vpnpass is the router agent and its command-line client. main stays
// thin: signals and one call into the CLI library (the logger, agent/logx,
// defaults to INFO and above on stderr).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/vpnpass/vpnpass/agent/cli"
)

func main() {
	ctx, stop := notifyContext(syscall.SIGTERM, syscall.SIGINT)
	code := cli.Main(ctx, os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// notifyContext is signal.NotifyContext without its context type, whose
// String method and bookkeeping cost ~4 KiB on mips: the context ends at the
// first of the signals, which stay caught until stop.
func notifyContext(sigs ...os.Signal) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	go func() {
		select {
		case <-ch:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel()
	}
}
