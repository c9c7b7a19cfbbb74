package nft

import (
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
)

// TestNoRuleForAnyEgress: every forward rule names a WAN device of its own
// family, and a family without WAN devices gets no forward rule at all.
func TestNoRuleForAnyEgress(t *testing.T) {
	d := netfilter.Desired{vpn.PPTP: netfilter.ModeAllow, vpn.L2TP: netfilter.ModeBlock, vpn.IPsec: netfilter.ModeAllow}
	for _, tc := range []struct {
		name   string
		wan    netfilter.WAN
		v4, v6 bool // whether rules of the family may exist
	}{
		{"no WAN", netfilter.WAN{}, false, false},
		{"wan6 only", netfilter.WAN{IPv6: []string{"eth1"}}, false, true},
		{"464xlat and wan6", netfilter.WAN{IPv4: []string{"464-xlat"}, IPv6: []string{"eth1"}}, true, true},
		{"mwan3", netfilter.WAN{IPv4: []string{"eth1", "eth2"}, IPv6: []string{"eth1"}}, true, true},
	} {
		c, err := validate(netfilter.KindFW4, []string{"br-lan", "br-guest"}, tc.wan, "", true)
		if err != nil {
			t.Fatal(err)
		}
		type tabled struct {
			r   ruleSpec
			tab family
		}
		var specs []tabled
		for _, f := range []family{famInet, famIP, famIP6} {
			for _, r := range c.foreignSpecs(d, f) {
				specs = append(specs, tabled{r, f})
			}
		}
		for _, p := range vpn.Toggled {
			for _, r := range c.blockSpecs(p) {
				specs = append(specs, tabled{r, famInet})
			}
		}
		for _, s := range specs {
			r := s.r
			fams := map[uint8][]vpn.Family{nfprotoAny: {vpn.IPv4, vpn.IPv6},
				nfprotoIPv4: {vpn.IPv4}, nfprotoIPv6: {vpn.IPv6}}[r.nfproto]
			switch s.tab {
			case famIP:
				fams = []vpn.Family{vpn.IPv4}
			case famIP6:
				fams = []vpn.Family{vpn.IPv6}
			}
			for _, f := range fams {
				if (f == vpn.IPv4 && !tc.v4) || (f == vpn.IPv6 && !tc.v6) {
					t.Errorf("%s: %s rule for a family without WAN: %s", tc.name, f, r.text())
				}
				if strings.Join(r.wan, ",") != strings.Join(c.wan.Devices(f), ",") {
					t.Errorf("%s: %s rule bound to %v, want %v: %s", tc.name, f, r.wan, c.wan.Devices(f), r.text())
				}
			}
			if len(r.wan) == 0 {
				t.Errorf("%s: rule without WAN device: %s", tc.name, r.text())
			}
		}
	}
}
