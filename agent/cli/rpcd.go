package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/vpnpass/vpnpass/agent/api"
)

// rpcdSignatures is what `list` prints: rpcd's exec-plugin protocol, one
// entry per API method with example-typed parameters (INTERFACE.md).
const rpcdSignatures = `{"status":{},"set":{"protocol":"str","mode":"str","dry_run":true},` +
	`"explain":{"proto":"str","dst":"str","dport":32,"src":"str"},"doctor":{"host":"str"},` +
	`"probe":{"host":"str","protocol":"str"},"nat":{"probe":true},` +
	`"history":{"since":"str","kind":"str","limit":32},"reload":{}}`

// rpcdMaxInput bounds what `call` reads from rpcd (the API's own limit).
const rpcdMaxInput = 64 << 10

// runRPCD is the rpcd exec plugin behind /usr/libexec/rpcd/vpnpass. rpcd
// ignores exit codes and rejects anything but a JSON object, so every answer
// is one object and the exit code is 0, errors included.
func runRPCD(ctx context.Context, o *opts, env Env) error {
	switch o.args[0] {
	case "list":
		_, err := io.WriteString(env.Stdout, rpcdSignatures+"\n")
		return err
	case "call":
		if len(o.args) != 2 {
			return usageError{"usage: vpnpass rpcd call METHOD (params on stdin)"}
		}
		return rpcdCall(ctx, o, env, o.args[1])
	}
	return usageError{fmt.Sprintf("rpcd %q: must be list or call", o.args[0])}
}

func rpcdCall(ctx context.Context, o *opts, env Env, method string) error {
	var sig map[string]json.RawMessage
	_ = json.Unmarshal([]byte(rpcdSignatures), &sig)
	if _, ok := sig[method]; !ok {
		return rpcdError(env, "unknown_method", fmt.Sprintf("unknown method %q", method))
	}
	params, err := readParams(env.Stdin)
	if err != nil {
		return rpcdError(env, "bad_request", err.Error())
	}
	c, err := api.Dial(o.socket)
	if err != nil {
		return rpcdDaemonError(env, err)
	}
	defer c.Close()
	var result json.RawMessage
	if err := c.Call(ctx, method, params, &result); err != nil {
		return rpcdDaemonError(env, err)
	}
	if len(result) == 0 || result[0] != '{' {
		// rpcd accepts objects only: wrap anything else.
		result, _ = json.Marshal(map[string]json.RawMessage{"result": result})
	}
	_, err = fmt.Fprintf(env.Stdout, "%s\n", result)
	return err
}

// readParams reads the params object rpcd writes on stdin; empty means {}.
func readParams(r io.Reader) (json.RawMessage, error) {
	if r == nil {
		return json.RawMessage("{}"), nil
	}
	b, err := io.ReadAll(io.LimitReader(r, rpcdMaxInput+1))
	if err != nil {
		return nil, fmt.Errorf("read params: %w", err)
	}
	if len(b) > rpcdMaxInput {
		return nil, errors.New("params over 64 KiB")
	}
	var v map[string]json.RawMessage
	if len(bytesTrim(b)) == 0 {
		return json.RawMessage("{}"), nil
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("params must be one JSON object: %v", err)
	}
	return json.RawMessage(b), nil
}

func bytesTrim(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

func rpcdDaemonError(env Env, err error) error {
	var ae *api.Error
	switch {
	case errors.As(err, &ae):
		return rpcdError(env, ae.Code, ae.Message)
	case errors.Is(err, api.ErrNoDaemon):
		return rpcdError(env, "not_available", "the vpnpass daemon is not running: start it with /etc/init.d/vpnpass start")
	}
	return rpcdError(env, "failed", err.Error())
}

func rpcdError(env Env, code, msg string) error {
	var eo errorObject
	eo.Error.Code, eo.Error.Message = code, msg
	return json.NewEncoder(env.Stdout).Encode(eo)
}
