package cli

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// reference builds a flag.FlagSet with the same options as newFlags.
func reference(env *Env) (*opts, *flag.FlagSet) {
	o, ours := newFlags(env)
	ref := *o
	fs := flag.NewFlagSet("vpnpass", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, name := range flagNames {
		v, _ := ours.lookup(name)
		switch {
		case v.b != nil:
			fs.BoolVar(field(&ref, o, v.b), name, *v.b, "")
		case v.s != nil:
			fs.StringVar(field(&ref, o, v.s), name, *v.s, "")
		default:
			fs.IntVar(field(&ref, o, v.i), name, *v.i, "")
		}
	}
	return &ref, fs
}

// field maps a pointer into o to the same field of ref.
func field[T any](ref, o *opts, p *T) *T {
	off := uintptr(unsafe.Pointer(p)) - uintptr(unsafe.Pointer(o))
	return (*T)(unsafe.Add(unsafe.Pointer(ref), off))
}

// compare parses args with both and reports any difference in the options
// set, the arguments left or the error text.
func compare(t *testing.T, args []string) {
	t.Helper()
	env := Env{Getenv: func(string) string { return "" }}
	o, ours := newFlags(&env)
	rest, err := ours.parse(append([]string(nil), args...))
	ref, fs := reference(&env)
	rerr := fs.Parse(append([]string(nil), args...))
	if fmt.Sprint(err) != fmt.Sprint(rerr) {
		t.Fatalf("%q: error %v, flag package says %v", args, err, rerr)
	}
	if err == nil && strings.Join(rest, "\x00") != strings.Join(fs.Args(), "\x00") {
		t.Errorf("%q: left %q, flag package %q", args, rest, fs.Args())
	}
	if !reflect.DeepEqual(*o, *ref) {
		t.Errorf("%q: options %+v, flag package %+v", args, *o, *ref)
	}
}

func TestFlagsLikeFlagPackage(t *testing.T) {
	for _, args := range [][]string{
		{}, {"status"}, {"--json", "status"}, {"-json", "status", "--json"},
		{"--json=false"}, {"--json=0"}, {"--json=maybe"}, {"--json", "false"},
		{"--json=t"}, {"--json=TRUE"}, {"--json=True"}, {"--json=F"}, {"--json=FALSE"}, {"--json=False"}, {"--json=tRUE"}, {"--json=yes"}, {"--json=1"},
		{"--config", "/tmp/x", "--socket=/s"}, {"--config"}, {"--config="},
		{"--dport", "500"}, {"--dport=0x1f4"}, {"--dport", "abc"}, {"--dport", "99999999999999999999"},
		{"--limit", "-5"}, {"--limit=-5"}, {"--nope"}, {"-h"}, {"--help"}, {"-help=1"},
		{"-"}, {"--"}, {"--", "--json"}, {"---json"}, {"-=x"}, {"--=x"}, {"-x=y=z"},
		{"--dry-run", "enable", "ipsec"}, {"--probe=true", "nat"}, {"--since", "1h", "--kind", "vpn.session"},
		{"--proto", "udp", "--dst", "192.0.2.1", "--src=192.0.2.2", "--host", "h", "--protocol", "pptp"},
	} {
		compare(t, args)
	}
}

// Random argument vectors from a pool of tricky words.
func TestFlagsRandom(t *testing.T) {
	pool := []string{"--json", "-json=false", "--json=", "--config", "/c", "--dport", "7", "-dport=x",
		"--limit", "010", "-", "--", "---", "-=", "--unknown", "status", "", "=", "-limit=0b101", "--socket=a=b"}
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 5000; n++ {
		args := make([]string, r.IntN(6))
		for i := range args {
			args[i] = pool[r.IntN(len(pool))]
		}
		compare(t, args)
	}
}
