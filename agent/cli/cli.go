// Package cli is vpnpass's command line: a thin client of the daemon's local
// API that falls back to a direct one-off look for read-only commands.
// Commands, flags, JSON and exit codes: docs/interface.md#cli.
package cli

import (
	"context"
	"errors"
	"io"
	"runtime"
	"strconv"
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
	mode                         netfilter.Mode // the mode the command sets
}

// usageError makes the CLI exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitError carries a specific exit code with its message.
type exitError struct {
	_    [0]func() // not comparable: no equality function in the binary
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// errorObject is the JSON error form printed with --json.
type errorObject struct {
	_     [0]func() // not comparable: no equality function in the binary
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type command struct {
	name    string
	run     func(ctx context.Context, o *opts, env *Env) error
	minArgs int
	maxArgs int
	mode    netfilter.Mode // enable, block, disable: the mode they set
	usage   string
}

// commands is sorted by name (the order of `vpnpass help`): a constant
// table, no map built at each start.
var commands = [...]command{
	{name: "agent", run: runAgent, usage: "agent [--config PATH] [--socket PATH]"},
	{name: "block", run: runMode, minArgs: 1, maxArgs: 1, mode: netfilter.ModeBlock, usage: "block pptp|l2tp|ipsec [--dry-run] [--direct] [--json]"},
	{name: "cleanup", run: runCleanup, usage: "cleanup"},
	{name: "disable", run: runMode, minArgs: 1, maxArgs: 1, mode: netfilter.ModeDefault, usage: "disable pptp|l2tp|ipsec [--dry-run] [--direct] [--json]"},
	{name: "doctor", run: runDoctor, usage: "doctor [--host IP] [--json]"},
	{name: "enable", run: runMode, minArgs: 1, maxArgs: 1, mode: netfilter.ModeAllow, usage: "enable pptp|l2tp|ipsec [--dry-run] [--direct] [--json]"},
	{name: "explain", run: runExplain, usage: "explain --proto udp|tcp|gre|esp|ah --dst IP [--dport N] [--src IP]"},
	{name: "handover", run: runHandover, usage: "handover"},
	{name: "help", usage: "help"}, // run: runHelp (it reads this table)
	{name: "history", run: runHistory, usage: "history [--since T] [--until T] [--kind K] [--protocol P] [--limit N] [--before SEQ] [--json]"},
	{name: "metrics", run: runMetrics, usage: "metrics [--json]"},
	{name: "nat", run: runNat, usage: "nat [--probe] [--json]"},
	{name: "probe", run: runProbe, minArgs: 1, maxArgs: 1, usage: "probe HOST [--protocol ipsec|pptp|l2tp] [--json]"},
	{name: "rpcd", run: runRPCD, minArgs: 1, maxArgs: 2, usage: "rpcd list | rpcd call METHOD"},
	{name: "status", run: runStatus, usage: "status [--json]"},
	{name: "version", run: runVersion, usage: "version"},
}

// lookupCommand finds a command by name.
func lookupCommand(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// Main runs one invocation and returns the process exit code.
func Main(ctx context.Context, args []string, e Env) int {
	env := &e // one pointer down the calls, not a 7-word copy at each
	o, cmd, err := parse(args, env)
	if err == nil && cmd.run == nil {
		err = runHelp(ctx, o, env)
	} else if err == nil {
		err = cmd.run(ctx, o, env)
	}
	if err == nil {
		return ExitOK
	}
	code, kind := classify(err)
	io.WriteString(env.Stderr, "vpnpass: "+oneLine(err.Error())+"\n")
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
func parse(args []string, env *Env) (*opts, *command, error) {
	o, fs := newFlags(env)
	var pos []string
	for {
		var err error
		if args, err = fs.parse(args); err != nil {
			return o, nil, usageError{err.Error() + " (see 'vpnpass help')"}
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
		return o, nil, usageError{"no command given: " + commandList()}
	}
	cmd := lookupCommand(pos[0])
	if cmd == nil {
		return o, nil, usageError{"unknown command " + strconv.Quote(pos[0]) + ": " + commandList()}
	}
	o.args, o.mode = pos[1:], cmd.mode
	if len(o.args) < cmd.minArgs || len(o.args) > cmd.maxArgs {
		return o, cmd, usageError{"usage: vpnpass " + cmd.usage}
	}
	return o, cmd, nil
}

// newFlags returns the options with their defaults and the flags that set them.
func newFlags(env *Env) (*opts, flagSet) {
	o := &opts{config: "/etc/config/vpnpass", socket: env.Getenv("VPNPASS_SOCKET"), limit: 50}
	if o.socket == "" {
		o.socket = "/var/run/vpnpass.sock"
	}
	return o, flagSet{o}
}

// flagNames are the flags flagSet.lookup knows: the bool flags, then the
// string flags, then the int flags (lookup's three arrays in this order).
var flagNames = [...]string{"json", "direct", "dry-run", "probe",
	"config", "socket", "proto", "dst", "src", "host", "since", "until", "kind", "protocol",
	"dport", "limit", "before"}

// lookup finds the option a flag sets: the name's index in flagNames picks
// the destination from three small arrays (a switch on the names compiles
// to ~2 KB of string compares, a switch on the index to 1.3 KB; no map is
// built per run either).
func (fs flagSet) lookup(name string) (flagVar, bool) {
	i := 0
	for i < len(flagNames) && flagNames[i] != name {
		i++
	}
	o := fs.o
	bools := [...]*bool{&o.json, &o.direct, &o.dryRun, &o.probe}
	strs := [...]*string{&o.config, &o.socket, &o.proto, &o.dst, &o.src, &o.host, &o.since, &o.until, &o.kind, &o.protocol}
	ints := [...]*int{&o.dport, &o.limit, &o.before}
	switch {
	case i < len(bools):
		return flagVar{b: bools[i]}, true
	case i < len(bools)+len(strs):
		return flagVar{s: strs[i-len(bools)]}, true
	case i < len(flagNames):
		return flagVar{i: ints[i-len(bools)-len(strs)]}, true
	}
	return flagVar{}, false
}

// commandList names the commands in the order people meet them.
func commandList() string {
	return "commands are agent, status, enable, block, disable, explain, doctor, probe, nat, history, metrics, cleanup, handover, rpcd, version"
}

func runHelp(_ context.Context, _ *opts, env *Env) error {
	b := &strings.Builder{}
	b.WriteString("usage: vpnpass [--json] [--config PATH] [--socket PATH] [--direct] COMMAND [ARGS]\n\ncommands:\n")
	for i := range commands {
		b.WriteString("  vpnpass " + commands[i].usage + "\n")
	}
	b.WriteString("\nFlags may stand before or after the command. Exit codes: 0 ok, 1 failed, 2 usage, 3 daemon needed.\n")
	_, err := io.WriteString(env.Stdout, b.String())
	return err
}

// versionJSON is `vpnpass version --json`.
type versionJSON struct {
	_       [0]func() // not comparable: no equality function in the binary
	Commit  string    `json:"commit"`
	GOARCH  string    `json:"goarch"`
	GOARM   string    `json:"goarm,omitempty"`
	GOMIPS  string    `json:"gomips,omitempty"`
	GOOS    string    `json:"goos"`
	Version string    `json:"version"`
}

func runVersion(_ context.Context, o *opts, env *Env) error {
	if o.json {
		// The fields in sorted order: the bytes a map[string]string gave.
		v := versionJSON{Commit: commit, GOARCH: runtime.GOARCH, GOARM: goarm, GOMIPS: gomips,
			GOOS: runtime.GOOS, Version: version}
		return json.NewEncoder(env.Stdout).Encode(&v)
	}
	extra := ""
	if gomips != "" {
		extra = " GOMIPS=" + gomips
	}
	if goarm != "" {
		extra = " GOARM=" + goarm
	}
	_, err := io.WriteString(env.Stdout, "vpnpass "+version+" (commit "+commit+") "+runtime.GOOS+"/"+runtime.GOARCH+extra+"\n")
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
