package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

type loadResult struct {
	Config   *Config   `json:"config,omitempty"`
	Problems []string  `json:"problems,omitempty"`
	Details  []Problem `json:"details,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// TestLoadGolden loads every testdata/*.uci and compares the config and the
// problems (rendered and structured) with the .json golden.
func TestLoadGolden(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/*.uci")
	if len(inputs) == 0 {
		t.Fatal("no inputs")
	}
	for _, in := range inputs {
		base := strings.TrimSuffix(filepath.Base(in), ".uci")
		t.Run(base, func(t *testing.T) {
			cfg, probs, err := Load(in)
			var res loadResult
			if err != nil {
				res.Error = err.Error()
			} else {
				res.Config = &cfg
				res.Details = probs
				for _, p := range probs {
					res.Problems = append(res.Problems, p.String())
				}
			}
			golden(t, base+".json", mustJSON(t, res))
		})
	}
}

// TestDefaults pins every default of docs/interface.md#configuration.
func TestDefaults(t *testing.T) {
	d := Defaults()
	checks := []struct {
		name      string
		got, want any
	}{
		{"enabled", d.Enabled, true},
		{"backend", d.Backend, BackendAuto},
		{"lan_device", len(d.LANDevices), 0},
		{"wan_device", d.WANDevice, ""},
		{"history_path", d.HistoryPath, "/var/lib/vpnpass/history.db"},
		{"history_max_kb", d.HistoryMaxKB, 512},
		{"history_max_days", d.HistoryMaxDays, 30},
		{"stun_server", d.STUNServer, ""},
		{"upnp_probe", d.UPnPProbe, false},
		{"observe", d.Observe, true},
		{"accounting", d.Accounting, true},
		{"public_range", len(d.PublicRanges), 0},
		{"metrics_textfile", d.MetricsTextfile, ""},
		{"metrics_interval", d.MetricsInterval, 30},
		{"share_hosts", d.ShareHosts, false},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v want %v", c.name, c.got, c.want)
		}
	}
	for _, p := range vpn.Toggled {
		if d.Modes.Mode(p) != netfilter.ModeDefault || d.Desired()[p] != netfilter.ModeDefault {
			t.Errorf("%s: default mode %q", p, d.Modes[p])
		}
	}
	// The normative example configuration (testdata/design.uci, with its
	// lan_device br-lan) must load to the defaults plus br-lan.
	cfg, probs, err := Load("testdata/design.uci")
	if err != nil || len(probs) != 0 {
		t.Fatalf("design.uci: %v %v", err, probs)
	}
	want := Defaults()
	want.LANDevices = []string{"br-lan"}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("design.uci loads as %+v", cfg)
	}
}

func TestReloadKeepsLastGoodValue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vpnpass")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config agent 'main'\n\toption backend 'fw3'\n\toption history_max_kb '1024'\n" +
		"config passthrough 'pptp'\n\toption mode 'allow'\n")
	last, probs, err := Load(path)
	if err != nil || len(probs) != 0 {
		t.Fatal(err, probs)
	}
	// backend becomes invalid, history_max_kb disappears, pptp's mode is mistyped.
	write("config agent 'main'\n\toption backend 'fw5'\nconfig passthrough 'pptp'\n\toption mode 'alow'\n")
	cfg, probs, err := Reload(path, last)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Backend != BackendFW3 || cfg.HistoryMaxKB != 512 || cfg.Modes[vpn.PPTP] != netfilter.ModeAllow {
		t.Fatalf("got backend %s kb %d pptp %s", cfg.Backend, cfg.HistoryMaxKB, cfg.Modes[vpn.PPTP])
	}
	if len(probs) != 2 || *probs[0].Kept != "fw3" || probs[0].Line != 2 || *probs[1].Kept != "allow" || probs[1].Line != 4 {
		t.Fatalf("problems: %+v", probs)
	}
	// An unparsable file keeps the whole last config.
	write("config agent 'main\n")
	cfg, _, err = Reload(path, last)
	if err == nil || !reflect.DeepEqual(cfg, last) {
		t.Fatalf("syntax error: %v, %+v", err, cfg)
	}
	// Reload must not alias last's slices and maps.
	cfg.Modes[vpn.PPTP] = netfilter.ModeBlock
	if last.Modes[vpn.PPTP] != netfilter.ModeAllow {
		t.Fatal("Reload aliases last.Modes")
	}
}

func TestLoadMissingFile(t *testing.T) {
	cfg, _, err := Load(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, fs.ErrNotExist) || !reflect.DeepEqual(cfg, Defaults()) {
		t.Fatalf("got %v %+v", err, cfg)
	}
}

func TestPublicRangeMasked(t *testing.T) {
	cfg, _, err := Load("testdata/custom.uci")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8:1::/48")}
	if !reflect.DeepEqual(cfg.PublicRanges, want) {
		t.Fatalf("got %v", cfg.PublicRanges)
	}
}

// TestShippedConfig: the config the package installs loads without a
// problem, to exactly the defaults (so the file documents them).
func TestShippedConfig(t *testing.T) {
	cfg, probs, err := Load("../../openwrt/files/etc/config/vpnpass")
	if err != nil || len(probs) != 0 {
		t.Fatalf("shipped config: %v %v", err, probs)
	}
	if !reflect.DeepEqual(cfg, Defaults()) {
		t.Errorf("shipped config loads to\n%+v\nwant the defaults\n%+v", cfg, Defaults())
	}
}

// TestFieldOption checks the option table against Config: every entry's
// value is the Config field whose json tag is the option's name, and the
// table is sorted (the order of the "valid" list of an unknown option).
func TestFieldOption(t *testing.T) {
	var c Config
	byTag := map[string]any{}
	rv := reflect.ValueOf(&c).Elem()
	for i := 0; i < rv.NumField(); i++ {
		byTag[rv.Type().Field(i).Tag.Get("json")] = rv.Field(i).Addr().Interface()
	}
	for i, f := range agentFields {
		if want := byTag[f.name]; c.option(i) != want {
			t.Errorf("option(%d) (%s) is not Config's %s field", i, f.name, f.name)
		}
		if i > 0 && agentFields[i-1].name >= f.name {
			t.Errorf("agentFields not sorted at %s", f.name)
		}
	}
}

// TestFieldTexts checks that each integer option's valid text names its
// bounds (the texts are constants so that the table needs no init code).
func TestFieldTexts(t *testing.T) {
	for i, f := range agentFields {
		if _, isInt := (&Config{}).option(i).(*int); !isInt {
			continue
		}
		if f.hi <= f.lo || !strings.Contains(f.valid, " "+strconv.Itoa(int(f.lo))+" ") ||
			!strings.HasSuffix(f.valid, " "+strconv.Itoa(int(f.hi))) {
			t.Errorf("%s: valid %q does not name %d..%d", f.name, f.valid, f.lo, f.hi)
		}
	}
}
