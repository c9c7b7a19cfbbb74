package nft

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenCase is one include rendering checked against testdata/<file>.
type goldenCase struct {
	file    string
	lan     []string
	wan     netfilter.WAN
	desired netfilter.Desired
}

var allAllow = netfilter.Desired{vpn.PPTP: netfilter.ModeAllow, vpn.L2TP: netfilter.ModeAllow, vpn.IPsec: netfilter.ModeAllow}

var goldenCases = []goldenCase{
	{"include-pptp.nft", []string{"br-lan"}, netfilter.OneWAN("eth1"), netfilter.Desired{vpn.PPTP: netfilter.ModeAllow}},
	{"include-l2tp.nft", []string{"br-lan"}, netfilter.OneWAN("eth1"), netfilter.Desired{vpn.L2TP: netfilter.ModeAllow}},
	{"include-ipsec.nft", []string{"br-lan"}, netfilter.OneWAN("eth1"), netfilter.Desired{vpn.IPsec: netfilter.ModeAllow}},
	{"include-all.nft", []string{"br-lan"}, netfilter.OneWAN("eth1"), allAllow},
	{"include-multi-lan-multi-wan.nft", []string{"br-lan", "br-guest"}, netfilter.WAN{IPv4: []string{"eth1", "wwan0"}, IPv6: []string{"eth1", "wwan0"}}, allAllow},
	// wan6 on its own device: IPv4 and IPv6 leave by different devices.
	{"include-split-families.nft", []string{"br-lan"}, netfilter.WAN{IPv4: []string{"pppoe-wan"}, IPv6: []string{"eth1"}}, allAllow},
	// Only an IPv6 WAN (wan6, 464xlat): IPv4 elements get no rule at all.
	{"include-ipv6-only.nft", []string{"br-lan"}, netfilter.WAN{IPv6: []string{"eth1"}}, allAllow},
	// Blocks live in our own table, never in the include.
	{"include-allow-and-block.nft", []string{"br-lan"}, netfilter.OneWAN("pppoe-wan"),
		netfilter.Desired{vpn.PPTP: netfilter.ModeBlock, vpn.L2TP: netfilter.ModeAllow, vpn.IPsec: netfilter.ModeDefault}},
}

func (g goldenCase) config(t testing.TB) config {
	t.Helper()
	c, err := validate(netfilter.KindFW4, g.lan, g.wan, "", true)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIncludeGolden(t *testing.T) {
	for _, g := range goldenCases {
		t.Run(g.file, func(t *testing.T) {
			got := g.config(t).includeText(g.desired)
			path := filepath.Join("testdata", g.file)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got != string(want) {
				t.Errorf("include text differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
			}
		})
	}
}

func TestIncludeEmptyWhenNothingAllowed(t *testing.T) {
	c := goldenCases[0].config(t)
	for _, d := range []netfilter.Desired{nil, {vpn.PPTP: netfilter.ModeBlock}, {vpn.IPsec: netfilter.ModeDefault}} {
		if got := c.includeText(d); got != "" {
			t.Errorf("includeText(%v) = %q, want none", d, got)
		}
	}
}

// TestFootprintCoverage: every footprint element of an allowed protocol has
// an allow and a reply rule; AH only for IPv6, pptp's helper only IPv4.
func TestFootprintCoverage(t *testing.T) {
	c := goldenCases[0].config(t)
	for _, p := range vpn.Toggled {
		for _, f := range []family{famInet, famIP, famIP6} {
			specs := c.allowSpecs(p, f)
			for _, e := range vpn.Footprint(p) {
				if f == famIP && e.Family != vpn.IPv4 || f == famIP6 && e.Family != vpn.IPv6 {
					continue
				}
				var allow, reply bool
				for _, s := range specs {
					if s.l4 != e.L4 || s.port != e.Port || !nfprotoCovers(s.nfproto, e.Family) {
						continue
					}
					allow = allow || s.kind == kindAllow
					reply = reply || s.kind == kindReply
				}
				if !allow || !reply {
					t.Errorf("%s in %s: element %s/%s allow=%v reply=%v", p, f, e.Family, e.Match(), allow, reply)
				}
			}
			for _, s := range specs {
				if s.l4 == vpn.ProtoAH && (f == famIP || f == famInet && s.nfproto != nfprotoIPv6) {
					t.Errorf("%s in %s: AH rule reaches IPv4: %s", p, f, s.text())
				}
			}
		}
	}
	for _, s := range c.helperSpecs() {
		if s.nfproto != nfprotoIPv4 {
			t.Errorf("helper rule not IPv4-only: %s", s.text())
		}
	}
}

func nfprotoCovers(nfp uint8, f vpn.Family) bool {
	return nfp == nfprotoAny || nfp == nfprotoIPv4 && f == vpn.IPv4 || nfp == nfprotoIPv6 && f == vpn.IPv6
}
