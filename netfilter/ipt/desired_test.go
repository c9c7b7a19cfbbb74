package ipt

import (
	"flag"
	"fmt"
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
	for _, p := range netfilter.Protocols {
		for _, m := range []netfilter.Mode{netfilter.ModeAllow, netfilter.ModeBlock} {
			for _, f := range []netfilter.Family{netfilter.IPv4, netfilter.IPv6} {
				l := desiredLayout(netfilter.Desired{p: m}, f, []string{"br-lan"}, "eth1")
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
	all := netfilter.Desired{netfilter.PPTP: netfilter.ModeAllow, netfilter.L2TP: netfilter.ModeBlock, netfilter.IPsec: netfilter.ModeAllow}
	tests := []struct {
		name      string
		d         netfilter.Desired
		fam       netfilter.Family
		lans      []string
		wan       string
		fwd, help int
	}{
		{"default owns nothing", netfilter.Desired{}, netfilter.IPv4, []string{"br-lan"}, "eth1", 0, 0},
		{"mixed v4", all, netfilter.IPv4, []string{"br-lan"}, "eth1", 2*2 + 1 + 3*2, 2},
		// AH is IPv6 only; the helper is IPv4 only.
		{"mixed v6", all, netfilter.IPv6, []string{"br-lan"}, "eth1", 2*2 + 1 + 4*2, 0},
		{"two lans", all, netfilter.IPv4, []string{"br-lan", "br-guest"}, "eth1", 2 * (2*2 + 1 + 3*2), 3},
		// Without devices the helper's LAN and router rules coincide.
		{"no devices", all, netfilter.IPv4, nil, "", 2*2 + 1 + 3*2, 1},
	}
	for _, tt := range tests {
		l := desiredLayout(tt.d, tt.fam, tt.lans, tt.wan)
		if len(l.fwd) != tt.fwd || len(l.helper) != tt.help {
			t.Errorf("%s: %d fwd, %d helper rules; want %d, %d", tt.name, len(l.fwd), len(l.helper), tt.fwd, tt.help)
		}
		for _, s := range append(l.fwd, l.helper...) {
			r := s.rule()
			if r.Bad != "" || !netfilter.IsOurTag(r.Comment) || protoOfTag(r.Comment) != s.proto {
				t.Errorf("%s: rule %s: bad=%q comment=%q", tt.name, r, r.Bad, r.Comment)
			}
		}
	}
}

func TestCheckDesired(t *testing.T) {
	if err := checkDesired(netfilter.Desired{netfilter.PPTP: netfilter.ModeAllow, netfilter.L2TP: ""}); err != nil {
		t.Errorf("valid desired refused: %v", err)
	}
	if err := checkDesired(netfilter.Desired{netfilter.PPTP: "open"}); err == nil {
		t.Error("mode \"open\" accepted")
	}
}
