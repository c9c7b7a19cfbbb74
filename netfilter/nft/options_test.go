package nft

import (
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
)

func TestValidIfname(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"br-lan", true}, {"eth0.2", true}, {"pppoe-wan", true}, {"wlan0-1", true},
		{"6in4-wan", true}, {"wg_0", true}, {"abcdefghijklmno", true},
		{"", false}, {"abcdefghijklmnop", false}, {".", false}, {"..", false},
		{"-eth0", false}, {".eth0", false}, {"eth*", false}, {`br"lan`, false},
		{"br lan", false}, {"eth0/1", false}, {"eth0:1", false}, {"br-lan\n", false},
		{"é0", false}, {"{a}", false}, {"a;b", false},
	} {
		err := validIfname(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("validIfname(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		what    string
		kind    netfilter.Kind
		lan     []string
		wan     string
		root    string
		wantErr string
	}{
		{"fw4", netfilter.KindFW4, []string{"br-lan"}, "eth1", "", ""},
		{"nftables without wan", netfilter.KindNftables, []string{"br-lan", "br-guest"}, "", "/tmp/x", ""},
		{"iptables kind", netfilter.KindFW3, []string{"br-lan"}, "", "", "kind"},
		{"no lan", netfilter.KindFW4, nil, "eth1", "", "no LAN device"},
		{"bad lan", netfilter.KindFW4, []string{`x" accept`}, "", "", "LAN device"},
		{"bad wan", netfilter.KindFW4, []string{"br-lan"}, "eth1 ", "", "WAN device"},
		{"wan is lan", netfilter.KindFW4, []string{"br-lan"}, "br-lan", "", "both"},
		{"relative root", netfilter.KindFW4, []string{"br-lan"}, "", "tmp", "absolute"},
	} {
		c, err := validate(tc.kind, tc.lan, netfilter.OneWAN(tc.wan), tc.root, true)
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.what, err)
			} else if c.root == "" || len(c.lan) != len(tc.lan) {
				t.Errorf("%s: config %+v", tc.what, c)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.what, err, tc.wantErr)
		}
	}
}

func TestValidateSortsAndDedupesLAN(t *testing.T) {
	c, err := validate(netfilter.KindNftables, []string{"lan2", "br-lan", "lan2"}, netfilter.WAN{}, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.lan, ","); got != "br-lan,lan2" {
		t.Errorf("lan = %s, want br-lan,lan2", got)
	}
}
