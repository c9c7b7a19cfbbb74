package e2e

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/test/lab"
)

// directJSON runs a command with --direct --json and decodes its object.
func directJSON(t *testing.T, l *lab.Lab, cfg string, args ...string) map[string]any {
	t.Helper()
	out := direct(t, l, cfg, append(args, "--json")...)
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("vpnpass %v --direct --json: %v\n%s", args, err, out)
	}
	return v
}

// passthroughEvents are a history result's passthrough.changed events as
// "protocol details", newest first.
func passthroughEvents(v map[string]any) []string {
	var out []string
	evs, _ := v["events"].([]any)
	for _, e := range evs {
		ev, _ := e.(map[string]any)
		if ev["kind"] != "passthrough.changed" {
			continue
		}
		d, _ := json.Marshal(ev["details"])
		out = append(out, ev["protocol"].(string)+" "+string(d))
	}
	return out
}

func keysOf(v map[string]any) []string {
	var k []string
	for n := range v {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

// TestDirectSetIsTheDaemonsSet: `--direct` runs the daemon's set. Its result
// has the daemon's shape (plan always an array, `changed` the one
// definition: the mode or the rules changed), and it records
// passthrough.changed with origin cli, as the daemon does for the CLI.
// Before, a repeated direct set answered "plan": null and nothing was
// recorded.
func TestDirectSetIsTheDaemonsSet(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FW4Locked}})
	cfg := writeDirectConfig(t)

	first := directJSON(t, l, cfg, "enable", "ipsec")
	again := directJSON(t, l, cfg, "enable", "ipsec")
	dry := directJSON(t, l, cfg, "block", "ipsec", "--dry-run")
	if first["changed"] != true || len(first["plan"].([]any)) == 0 || first["status"] == nil {
		t.Errorf("first enable: %v, want changed with a plan and the status", first)
	}
	if plan, ok := again["plan"].([]any); again["changed"] != false || !ok || len(plan) != 0 {
		t.Errorf("enable again: changed %v plan %v, want false and []", again["changed"], again["plan"])
	}
	if dry["changed"] != true || len(dry["plan"].([]any)) == 0 || dry["status"] != nil {
		t.Errorf("dry run: %v, want changed with a plan and no status", dry)
	}
	directJSON(t, l, cfg, "disable", "ipsec")
	hist := directJSON(t, l, cfg, "history", "--kind", "passthrough.")
	want := []string{ // newest first
		`ipsec {"from":"allow","origin":"cli","to":"default"}`,
		`ipsec {"from":"default","origin":"cli","to":"allow"}`,
	}
	if got := passthroughEvents(hist); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("direct sets recorded:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The daemon's set answers the same shape and records the same event.
	a := startAgent(t, l)
	viaDaemon := a.cliJSON(t, "enable", "ipsec")
	if !reflect.DeepEqual(keysOf(viaDaemon), keysOf(first)) || viaDaemon["changed"] != true {
		t.Errorf("daemon set %v, direct set %v: want the same fields", keysOf(viaDaemon), keysOf(first))
	}
	if got := passthroughEvents(a.cliJSON(t, "history", "--kind", "passthrough.")); len(got) != 1 || got[0] != want[1] {
		t.Errorf("daemon set recorded %v, want [%s]", got, want[1])
	}
}
