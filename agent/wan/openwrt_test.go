package wan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/vpn"
)

func readFixture(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseUbusStatus(t *testing.T) {
	tests := []struct {
		file    string
		device  string
		proto   string
		addrs   []string
		gateway string
		err     error
	}{
		{"wan-dhcp-double-nat.json", "eth1", "dhcp", []string{"192.168.0.2/24"}, "192.168.0.1", nil},
		{"wan-pppoe-public.json", "pppoe-wan", "pppoe", []string{"81.2.69.160/32", "2a00:1450:4001::2/64"}, "81.2.64.1", nil},
		{"wan-cgnat.json", "wan", "dhcp", []string{"100.72.13.5/10"}, "100.64.0.1", nil},
		{"wan6.json", "eth1", "dhcpv6", []string{"2a00:1450:4001::5/128"}, "", nil},
		{"wan-down.json", "", "", nil, "", ErrNoWAN},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			info, err := ParseUbusStatus(readFixture(t, "ubus", tc.file))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("got %+v, %v; want %v", info, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var addrs []string
			for _, p := range info.Addresses {
				addrs = append(addrs, p.String())
			}
			gw := ""
			if info.Gateway.IsValid() {
				gw = info.Gateway.String()
			}
			if info.Device != tc.device || info.Proto != tc.proto || !slices.Equal(addrs, tc.addrs) || gw != tc.gateway {
				t.Errorf("got %s %s %v gw %q; want %s %s %v gw %q", info.Device, info.Proto, addrs, gw, tc.device, tc.proto, tc.addrs, tc.gateway)
			}
		})
	}
	if _, err := ParseUbusStatus([]byte(`{"up": tru`)); err == nil {
		t.Error("malformed JSON gave no error")
	}
}

// fakeUbus answers `ubus call network.interface.NAME status` from fixtures.
func fakeUbus(files map[string]string) func(context.Context, ...string) ([]byte, error) {
	return func(_ context.Context, args ...string) ([]byte, error) {
		if len(args) != 3 || args[0] != "call" || args[2] != "status" {
			return nil, errors.New("unexpected ubus call " + strings.Join(args, " "))
		}
		name, ok := files[strings.TrimPrefix(args[1], "network.interface.")]
		if !ok {
			return nil, errors.New("Command failed: Not found")
		}
		return os.ReadFile(filepath.Join("testdata", "ubus", name))
	}
}

func TestUbusSource(t *testing.T) {
	src := UbusSource{IPv6Interface: "wan6", Run: fakeUbus(map[string]string{
		"wan": "wan-dhcp-double-nat.json", "wan6": "wan6.json"})}
	info, err := src.WAN()
	if err != nil {
		t.Fatal(err)
	}
	if info.Device != "eth1" || len(info.IPv6Addresses) != 1 {
		t.Fatalf("got %+v", info)
	}
	n := Classify(Input{Info: info})
	if n.Code != vpn.NATDouble || n.Upstream.Address != "192.168.0.1" || !n.IPv6Global {
		t.Errorf("verdict %+v", n)
	}
	if _, err := (UbusSource{Run: fakeUbus(nil)}).WAN(); err == nil || !strings.Contains(err.Error(), "network.interface.wan") {
		t.Errorf("missing interface: %v", err)
	}
	down := UbusSource{Run: fakeUbus(map[string]string{"wan": "wan-down.json"})}
	if _, err := down.WAN(); !errors.Is(err, ErrNoWAN) {
		t.Errorf("down interface: %v, want ErrNoWAN", err)
	}
	// FirstOf falls back to the next source when ubus fails.
	info, err = FirstOf(down, StaticSource(wan("100.64.0.2/10", "100.64.0.1"))).WAN()
	if err != nil || info.Device != "eth1" {
		t.Errorf("FirstOf: %+v, %v", info, err)
	}
	if _, err := FirstOf(down).WAN(); err == nil {
		t.Error("FirstOf of one failing source gave no error")
	}
}

func TestParseNetworkConfig(t *testing.T) {
	tests := []struct {
		file string
		want []NetInterface
	}{
		{"mape", []NetInterface{{Name: "loopback", Proto: "static", Device: "lo", IPv4: true},
			{Name: "lan", Proto: "static", Device: "br-lan", IPv4: true},
			{Name: "wan", Proto: "dhcp", Device: "wan"}, {Name: "wan6", Proto: "dhcpv6", Device: "wan"},
			{Name: "wanmap", Proto: "map", Type: "map-e", IPv4: true}}},
		{"dslite", []NetInterface{{Name: "lan", Proto: "static", Device: "br-lan", IPv4: true},
			{Name: "wan6", Proto: "dhcpv6", Device: "wan"}, {Name: "dslite", Proto: "dslite"}}},
		{"pppoe-and-disabled-map", []NetInterface{{Name: "wan", Proto: "pppoe", Device: "wan", IPv6: true},
			{Name: "wanmap", Proto: "map", Disabled: true}}},
	}
	for _, tc := range tests {
		got, err := ReadNetworkConfig(filepath.Join("testdata", "network", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", tc.file, got, tc.want)
		}
	}
	if got, err := ReadNetworkConfig(filepath.Join(t.TempDir(), "missing")); err != nil || got != nil {
		t.Errorf("missing file: %v, %v", got, err)
	}
}

// TestSharingFromFixtures: MAP-E and DS-Lite configs give ipv4-sharing and
// advice that names what still works.
func TestSharingFromFixtures(t *testing.T) {
	tests := []struct {
		file  string
		info  Info
		class Class
		code  vpn.NATCode
	}{
		{"mape", Info{Device: "map-wanmap", Kind: "ip6tnl", Addresses: pfx("203.0.113.77/32")}, ClassMAPE, vpn.NATIPv4Sharing},
		{"mape", Info{}, ClassMAPE, vpn.NATIPv4Sharing},
		{"dslite", Info{Device: "ds-dslite", Kind: "ip6tnl", Addresses: pfx("192.0.0.2/29"), Gateway: ip("192.0.0.1")}, ClassDSLite, vpn.NATIPv4Sharing},
		{"dslite", Info{Device: "eth1", IPv6Addresses: pfx("2a00:1450::2/64")}, ClassDSLite, vpn.NATIPv4Sharing},
		{"pppoe-and-disabled-map", Info{Device: "pppoe-wan", Addresses: pfx("81.2.69.160/32")}, ClassPublic, vpn.NATOK},
	}
	for _, tc := range tests {
		ifaces, err := ReadNetworkConfig(filepath.Join("testdata", "network", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		n := Classify(Input{Info: tc.info, Network: ifaces})
		if n.Class != tc.class || n.Code != tc.code {
			t.Errorf("%s %+v: %s/%s, want %s/%s", tc.file, tc.info, n.Class, n.Code, tc.class, tc.code)
			continue
		}
		if tc.code != vpn.NATIPv4Sharing {
			continue
		}
		for _, s := range []string{"PPTP (GRE)", "raw ESP", "cannot work", "IPsec with NAT-T", "OpenVPN", "WireGuard", "IPv6"} {
			if !strings.Contains(n.Advice, s) {
				t.Errorf("%s: advice lacks %q: %s", tc.file, s, n.Advice)
			}
		}
	}
}
