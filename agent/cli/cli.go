// Package cli is vpnpass's command line: a thin client of the daemon's local
// API that falls back to a direct one-off look for read-only commands.
// Commands, flags, JSON and exit codes: docs/interface.md#cli.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"

	"github.com/vpnpass/vpnpass/internal/errx"
	json "github.com/vpnpass/vpnpass/internal/jsonx"

	"github.com/vpnpass/vpnpass/agent/probe"
	"github.com/vpnpass/vpnpass/netfilter"
)

// Exit codes (docs/interface.md#cli).
const (
	ExitOK       = 0
	ExitFailed   = 1
	ExitUsage    = 2
	ExitNoDaemon = 3
)

// Set at link time with -X.
var (
	version = "dev"
	commit  = "unknown"
	goarm   = ""
	gomips  = ""
)

// Env is the process environment the CLI runs in; injectable for tests.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// opts are the common and per-command flags; they may stand anywhere.
type opts struct {
	json, direct, dryRun, probe  bool
	config, socket               string
	proto, dst, src, host        string
	dport, limit, before         int
	since, until, kind, protocol string
	args                         []string
}

// usageError makes the CLI exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitError carries a specific exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// errorObject is the JSON error form printed with --json.
type errorObject struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type command struct {
	run     func(ctx context.Context, o *opts, env Env) error
	minArgs int
	maxArgs int
	usage   string
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"version":  {run: runVersion, usage: "version"},
		"help":     {run: runHelp, usage: "help"},
		"agent":    {run: runAgent, usage: "agent [--config PATH] [--socket PATH]"},
		"history":  {run: runHistory, usage: "history [--since T] [--until T] [--kind K] [--protocol P] [--limit N] [--before SEQ] [--json]"},
		"nat":      {run: runNat, usage: "nat [--probe] [--json]"},
		"metrics":  {run: runMetrics, usage: "metrics [--json]"},
		"doctor":   {run: runDoctor, usage: "doctor [--host IP] [--json]"},
		"probe":    {run: runProbe, minArgs: 1, maxArgs: 1, usage: "probe HOST [--protocol ipsec|pptp|l2tp] [--json]"},
		"rpcd":     {run: runRPCD, minArgs: 1, maxArgs: 2, usage: "rpcd list | rpcd call METHOD"},
		"status":   {run: runStatus, usage: "status [--json]"},
		"enable":   {run: modeCommand(netfilter.ModeAllow), minArgs: 1, maxArgs: 1, usage: "enable pptp|l2tp|ipsec [--dry-run] [--direct] [--json]"},
		"block":    {run: modeCommand(netfilter.ModeBlock), minArgs: 1, maxArgs: 1, usage: "block pptp|l2tp|ipsec [--dry-run] [--direct] [--json]"},
		"disable":  {run: modeCommand(netfilter.ModeDefault), minArgs: 1, maxArgs: 1, usage: "disable pptp|l2tp|ipsec [--dry-run] [--direct] [--json]"},
		"cleanup":  {run: runCleanup, usage: "cleanup"},
		"handover": {run: runHandover, usage: "handover"},
		"explain":  {run: runExplain, usage: "explain --proto udp|tcp|gre|esp|ah --dst IP [--dport N] [--src IP]"},
	}
}

// Main runs one invocation and returns the process exit code.
func Main(ctx context.Context, args []string, env Env) int {
	o, name, err := parse(args, env)
	if err == nil {
		cmd := commands[name]
		err = cmd.run(ctx, o, env)
	}
	if err == nil {
		return ExitOK
	}
	code, kind := classify(err)
	fmt.Fprintf(env.Stderr, "vpnpass: %s\n", oneLine(err.Error()))
	if o != nil && o.json {
		var eo errorObject
		eo.Error.Code, eo.Error.Message = kind, oneLine(err.Error())
		_ = json.NewEncoder(env.Stdout).Encode(eo)
	}
	return code
}

func classify(err error) (int, string) {
	if _, ok := errx.As[usageError](err); ok {
		return ExitUsage, "bad_params"
	}
	if ee, ok := errx.As[exitError](err); ok {
		if ee.code == ExitNoDaemon {
			return ee.code, "not_available"
		}
		return ee.code, "failed"
	}
	return ExitFailed, "failed"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// parse accepts flags before and after the command and its arguments, as
// people type them (`vpnpass enable ipsec --json`).
func parse(args []string, env Env) (*opts, string, error) {
	o, fs := newFlags(env)
	var pos []string
	for {
		var err error
		if args, err = fs.parse(args); err != nil {
			return o, "", usageError{fmt.Sprintf("%v (see 'vpnpass help')", err)}
		}
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) == 0 {
		return o, "", usageError{"no command given: " + commandList()}
	}
	name := pos[0]
	cmd, ok := commands[name]
	if !ok {
		return o, "", usageError{fmt.Sprintf("unknown command %q: %s", name, commandList())}
	}
	o.args = pos[1:]
	if len(o.args) < cmd.minArgs || len(o.args) > cmd.maxArgs {
		return o, name, usageError{"usage: vpnpass " + cmd.usage}
	}
	return o, name, nil
}

// newFlags returns the options with their defaults and the flags that set them.
func newFlags(env Env) (*opts, flagSet) {
	o := &opts{config: "/etc/config/vpnpass", socket: env.Getenv("VPNPASS_SOCKET"), limit: 50}
	if o.socket == "" {
		o.socket = "/var/run/vpnpass.sock"
	}
	return o, flagSet{
		"json": {b: &o.json}, "direct": {b: &o.direct}, "dry-run": {b: &o.dryRun}, "probe": {b: &o.probe},
		"config": {s: &o.config}, "socket": {s: &o.socket},
		"proto": {s: &o.proto}, "dst": {s: &o.dst}, "src": {s: &o.src}, "host": {s: &o.host},
		"dport": {i: &o.dport}, "limit": {i: &o.limit}, "before": {i: &o.before},
		"since": {s: &o.since}, "until": {s: &o.until}, "kind": {s: &o.kind}, "protocol": {s: &o.protocol},
	}
}

func commandList() string {
	names := []string{"agent", "status", "enable", "block", "disable", "explain", "doctor", "probe", "nat", "history", "metrics", "cleanup", "handover", "rpcd", "version"}
	var have []string
	for _, n := range names {
		if _, ok := commands[n]; ok {
			have = append(have, n)
		}
	}
	return "commands are " + strings.Join(have, ", ")
}

func runHelp(_ context.Context, _ *opts, env Env) error {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.StringSlice(names).Sort()
	b := &strings.Builder{}
	b.WriteString("usage: vpnpass [--json] [--config PATH] [--socket PATH] [--direct] COMMAND [ARGS]\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(b, "  vpnpass %s\n", commands[n].usage)
	}
	b.WriteString("\nFlags may stand before or after the command. Exit codes: 0 ok, 1 failed, 2 usage, 3 daemon needed.\n")
	_, err := io.WriteString(env.Stdout, b.String())
	return err
}

func runVersion(_ context.Context, o *opts, env Env) error {
	v := map[string]string{"version": version, "commit": commit, "goos": runtime.GOOS, "goarch": runtime.GOARCH}
	if gomips != "" {
		v["gomips"] = gomips
	}
	if goarm != "" {
		v["goarm"] = goarm
	}
	if o.json {
		return json.NewEncoder(env.Stdout).Encode(v)
	}
	extra := ""
	if gomips != "" {
		extra = " GOMIPS=" + gomips
	}
	if goarm != "" {
		extra = " GOARM=" + goarm
	}
	_, err := fmt.Fprintf(env.Stdout, "vpnpass %s (commit %s) %s/%s%s\n", version, commit, runtime.GOOS, runtime.GOARCH, extra)
	return err
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// usageOr turns an invalid-parameter error into a usage error (exit 2).
func usageOr(err error) error {
	if errors.Is(err, probe.ErrInvalid) {
		return usageError{err.Error()}
	}
	return err
}
