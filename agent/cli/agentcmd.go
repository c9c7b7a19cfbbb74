package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/vpnpass/vpnpass/agent/logx"

	"github.com/vpnpass/vpnpass/agent"
)

// runAgent runs the daemon in the foreground (procd style). SIGTERM/SIGINT
// end the context (main); SIGHUP re-reads the config.
func runAgent(ctx context.Context, o *opts, env *Env) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	defer signal.Stop(sig)
	hup := make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				select {
				case hup <- struct{}{}:
				default:
				}
			}
		}
	}()
	return agent.Run(ctx, agent.Options{ConfigPath: o.config, SocketPath: o.socket, Logger: logx.Default(), Hup: hup,
		Version: version, Commit: commit})
}
