package ipt

import (
	"flag"
	"fmt"
	"github.com/vpnpass/vpnpass/vpn"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n%s", name, got)
	}
}

// TestLayoutGolden renders every protocol and mode in both families.
func TestLayoutGolden(t *testing.T) {
	var b strings.Builder
	for _, p := range vpn.Toggled {
		for _, m := range []netfilter.Mode{netfilter.ModeAllow, netfilter.ModeBlock} {
			for _, f := range []vpn.Family{vpn.IPv4, vpn.IPv6} {
				l := desiredLayout(netfilter.Desired{p: m}, f, []string{"br-lan"}, []string{"eth1"})
				fmt.Fprintf(&b, "# %s %s %s\n", p, m, f)
				for _, s := range append(l.fwd, l.helper...) {
					fmt.Fprintf(&b, "-t %s %s\n", s.table, s.rule())
				}
			}
		}
	}
	golden(t, "layout.golden", b.String())
}

func TestLayoutInvariants(t *testing.T) {
	all := netfilter.Desired{vpn.PPTP: netfilter.ModeAllow, vpn.L2TP: netfilter.ModeBlock, vpn.IPsec: netfilter.ModeAllow}
	tests := []struct {
		name      string
		d         netfilter.Desired
		fam       vpn.Family
		lans      []string
		wans      []string
		fwd, help int
	}{
		{"default owns nothing", netfilter.Desired{}, vpn.IPv4, []string{"br-lan"}, []string{"eth1"}, 0, 0},
		{"mixed v4", all, vpn.IPv4, []string{"br-lan"}, []string{"eth1"}, 2*2 + 1 + 3*2, 2},
		// AH is IPv6 only; the helper is IPv4 only.
		{"mixed v6", all, vpn.IPv6, []string{"br-lan"}, []string{"eth1"}, 2*2 + 1 + 4*2, 0},
		{"two lans", all, vpn.IPv4, []string{"br-lan", "br-guest"}, []string{"eth1"}, 2 * (2*2 + 1 + 3*2), 3},
		// mwan3: every rule once per WAN device, the router's helper rule too.
		{"two wans", all, vpn.IPv4, []string{"br-lan"}, []string{"eth1", "wwan0"}, 2 * (2*2 + 1 + 3*2), 3},
		// An IPv6-only uplink: no IPv4 WAN device, so no rule at all (never one without -o).
		{"no wan device", all, vpn.IPv4, []string{"br-lan"}, nil, 0, 1},
		// Without any device: no forward rules; the helper's LAN rule only.
		{"no devices", all, vpn.IPv4, nil, nil, 0, 1},
	}
	for _, tt := range tests {
		l := desiredLayout(tt.d, tt.fam, tt.lans, tt.wans)
		if len(l.fwd) != tt.fwd || len(l.helper) != tt.help {
			t.Errorf("%s: %d fwd, %d helper rules; want %d, %d", tt.name, len(l.fwd), len(l.helper), tt.fwd, tt.help)
		}
		for _, s := range append(l.fwd, l.helper...) {
			r := s.rule()
			if r.Bad != "" || !netfilter.IsOurTag(r.Comment) || protoOfTag(r.Comment) != s.proto {
				t.Errorf("%s: rule %s: bad=%q comment=%q", tt.name, r, r.Bad, r.Comment)
			}
		}
		for _, s := range l.fwd {
			if !bindsWAN(s.args, tt.wans) {
				t.Errorf("%s: forward rule %v is bound to no WAN device", tt.name, s.args)
			}
		}
	}
}

// bindsWAN: the rule names one of wans with -o (LAN→WAN) or -i (replies).
func bindsWAN(args, wans []string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-o" || args[i] == "-i" {
			for _, w := range wans {
				if args[i+1] == w {
					return true
				}
			}
		}
	}
	return false
}

func TestCheckDesired(t *testing.T) {
	if err := checkDesired(netfilter.Desired{vpn.PPTP: netfilter.ModeAllow, vpn.L2TP: ""}); err != nil {
		t.Errorf("valid desired refused: %v", err)
	}
	if err := checkDesired(netfilter.Desired{vpn.PPTP: "open"}); err == nil {
		t.Error("mode \"open\" accepted")
	}
}
