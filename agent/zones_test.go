package agent

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
)

func TestZoneSides(t *testing.T) {
	v := func(s ...string) []string { return s }
	tests := []struct {
		dir        string
		ok         bool
		lan        []string
		wan        netfilter.WAN
		unresolved []string
	}{
		{"default", true, v("br-lan"), netfilter.WAN{IPv4: v("eth1"), IPv6: v("eth1")}, nil},
		// guest and iot forward to wan (iot also by `list device`, its wildcard
		// left out); dmz only to lan and through a disabled forwarding; mwan3's
		// wanb is a second IPv4 WAN.
		{"guest-mwan3", true, v("br-guest", "br-lan", "eth0.20", "tun0"),
			netfilter.WAN{IPv4: v("eth1", "eth2"), IPv6: v("eth1")}, nil},
		// PPPoE leaves by pppoe-wan (wan6 '@wan' too); the Wi-Fi uplink by the
		// ifname the wireless config fixes.
		{"pppoe-wwan", true, v("br-lan"), netfilter.WAN{IPv4: v("pppoe-wan", "wlan0-sta"), IPv6: v("pppoe-wan")}, nil},
		{"wan6-only", true, v("br-lan"), netfilter.WAN{IPv6: v("eth1")}, nil},
		// 464xlat: IPv4 leaves by the CLAT device only, never by the IPv6 uplink.
		{"xlat", true, v("br-lan"), netfilter.WAN{IPv4: v("464-xlat"), IPv6: v("wwan0")}, nil},
		{"legacy", true, v("br-lan"), netfilter.WAN{IPv4: v("eth0.2"), IPv6: v("eth0.2")}, nil},
		{"nofw", false, nil, netfilter.WAN{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", "zones", tc.dir)
			s, ok, err := ZoneSides(filepath.Join(dir, "firewall"), filepath.Join(dir, "network"))
			if err != nil || ok != tc.ok {
				t.Fatalf("ZoneSides: ok %v, %v; want ok %v", ok, err, tc.ok)
			}
			if !reflect.DeepEqual(s.LAN, tc.lan) || !s.WAN.Equal(tc.wan) || !reflect.DeepEqual(s.Unresolved, tc.unresolved) {
				t.Errorf("got LAN %v WAN %+v unresolved %v; want LAN %v WAN %+v unresolved %v",
					s.LAN, s.WAN, s.Unresolved, tc.lan, tc.wan, tc.unresolved)
			}
		})
	}
}

// TestZoneSidesWithoutWirelessIfname: a Wi-Fi uplink whose device only the
// running system names is reported, and the default route's device joins
// the WAN's IPv4 side (never a LAN device).
func TestZoneSidesWithoutWirelessIfname(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("testdata", "zones", "pppoe-wwan")
	copyFile(t, filepath.Join(src, "firewall"), filepath.Join(dir, "firewall"))
	copyFile(t, filepath.Join(src, "network"), filepath.Join(dir, "network"))
	s, ok, err := ZoneSides(filepath.Join(dir, "firewall"), filepath.Join(dir, "network"))
	if err != nil || !ok || !reflect.DeepEqual(s.Unresolved, []string{"wwan"}) {
		t.Fatalf("unresolved %v, ok %v, %v; want [wwan]", s.Unresolved, ok, err)
	}
	for _, tc := range []struct {
		dev  string
		want []string
	}{
		{"phy0-sta0", []string{"phy0-sta0", "pppoe-wan"}},
		{"br-lan", []string{"pppoe-wan"}},
		{"", []string{"pppoe-wan"}},
	} {
		if got := joinDefaultRoute(s, true, tc.dev); !reflect.DeepEqual(got.IPv4, tc.want) || !reflect.DeepEqual(got.IPv6, []string{"pppoe-wan"}) {
			t.Errorf("joinDefaultRoute(%q) = %+v, want IPv4 %v", tc.dev, got, tc.want)
		}
	}
	if got := joinDefaultRoute(Sides{}, false, "eth1"); !got.Equal(netfilter.OneWAN("eth1")) {
		t.Errorf("without zones: %+v, want eth1 for both families", got)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err == nil {
		err = os.WriteFile(to, b, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}
