package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/vpnpass/vpnpass/internal/errx"
	json "github.com/vpnpass/vpnpass/internal/jsonx"

	"github.com/vpnpass/vpnpass/agent/api"
)

// rpcdMaxInput bounds what `call` reads from rpcd (the API's own limit).
const rpcdMaxInput = 64 << 10

// rpcdBudget is how long a `call` may take in all (an answer within 10 s,
// docs/interface.md#rpcd-plugin-and-ubus, because LuCI gives up at 20 s
// and OpenWrt's rpcd -t 30 SIGKILLs the plugin, which reaches the caller
// as a bare ubus status).
// The last second of the 10 is left for starting and ending the process on
// a slow router. A probe of a silent host (7 s) fits.
const rpcdBudget = 9 * time.Second

// runRPCD is the rpcd exec plugin behind /usr/libexec/rpcd/vpnpass. rpcd
// ignores exit codes and rejects anything but a JSON object, so every answer
// is one object and the exit code is 0, errors included.
func runRPCD(ctx context.Context, o *opts, env *Env) error {
	switch o.args[0] {
	case "list":
		// rpcd's exec-plugin protocol: one entry per method of the contract
		// with example-typed parameters (docs/interface.md#rpcd-plugin-and-ubus).
		_, err := io.WriteString(env.Stdout, api.RPCDSignatures()+"\n")
		return err
	case "call":
		if len(o.args) != 2 {
			return usageError{"usage: vpnpass rpcd call METHOD (params on stdin)"}
		}
		ctx, cancel := context.WithTimeout(ctx, rpcdBudget)
		err := rpcdCall(ctx, o, env, o.args[1])
		cancel() // no defers in the CLI where a call does (docs/design.md#size)
		return err
	}
	return usageError{"rpcd " + strconv.Quote(o.args[0]) + ": must be list or call"}
}

func rpcdCall(ctx context.Context, o *opts, env *Env, method string) error {
	if _, ok := api.Lookup(method); !ok {
		return rpcdError(env, "unknown_method", "unknown method "+strconv.Quote(method))
	}
	in, err := readParams(ctx, env.Stdin)
	if err != nil {
		return rpcdError(env, "bad_request", err.Error())
	}
	c, err := api.Dial(o.socket)
	if err != nil {
		return rpcdDaemonError(env, err)
	}
	c.Caller = rpcdCaller(ctx, method, in)
	var result json.RawMessage
	err = c.Call(ctx, method, in.params, &result)
	c.Close()
	if err != nil {
		// The connection's deadline is the context's: either may fire first.
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
			return rpcdTimeout(env, method)
		}
		return rpcdDaemonError(env, err)
	}
	if len(result) == 0 || result[0] != '{' {
		// rpcd accepts objects only: wrap anything else.
		result, _ = json.Marshal(map[string]json.RawMessage{"result": result})
	}
	_, err = env.Stdout.Write(append(result, '\n'))
	return err
}

// rpcdCaller says who calls: rpcd with the session's login (looked up for
// `set` only, the one method whose origin is recorded: every other call
// saves the extra process), or ubus from a shell when there is no session.
func rpcdCaller(ctx context.Context, method string, in rpcdInput) *api.Caller {
	if !in.session {
		return &api.Caller{Origin: api.OriginUbus}
	}
	c := &api.Caller{Origin: api.OriginRPCD}
	if method == api.MethodSet.Name {
		c.User = sessionUser(ctx, in.sid)
	}
	return c
}

func rpcdTimeout(env *Env, method string) error {
	msg := "the vpnpass daemon did not answer " + method + " within " + strconv.Itoa(int(rpcdBudget/time.Second)) +
		" s: it may be hung or busy (restart it with /etc/init.d/vpnpass restart)"
	if method == api.MethodSet.Name {
		msg += "; whether the change was made is unknown: check the status"
	}
	return rpcdError(env, "failed", msg)
}

func rpcdDaemonError(env *Env, err error) error {
	if ae, ok := errx.As[*api.Error](err); ok {
		return rpcdError(env, ae.Code, ae.Message)
	}
	if errors.Is(err, api.ErrNoDaemon) {
		return rpcdError(env, "not_available", "the vpnpass daemon is not running: start it with /etc/init.d/vpnpass start")
	}
	return rpcdError(env, "failed", err.Error())
}

func rpcdError(env *Env, code, msg string) error {
	var eo errorObject
	eo.Error.Code, eo.Error.Message = code, msg
	return json.NewEncoder(env.Stdout).Encode(eo)
}
