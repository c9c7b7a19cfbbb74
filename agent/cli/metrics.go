package cli

import (
	"context"
	"errors"
	"io"

	"github.com/vpnpass/vpnpass/agent/api"
)

// errMetricsNeedDaemon: the counters live in the daemon; --direct has none.
var errMetricsNeedDaemon = exitError{code: ExitNoDaemon, err: errors.New(
	"the vpnpass daemon is not running, and only it counts what the metrics show: start it (/etc/init.d/vpnpass start, or `vpnpass agent`)")}

// runMetrics prints the Prometheus exposition (--json: {"text": ...}).
func runMetrics(ctx context.Context, o *opts, env *Env) error {
	if o.direct {
		return errMetricsNeedDaemon
	}
	var res api.MetricsResult
	ok, err := callDaemon(ctx, o, api.MethodMetrics.Args(&api.NoParams{}, &res))
	if err != nil {
		return err
	}
	if !ok {
		return errMetricsNeedDaemon
	}
	if o.json {
		return printJSON(env.Stdout, res)
	}
	_, err = io.WriteString(env.Stdout, res.Text)
	return err
}
