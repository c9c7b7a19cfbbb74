package agent

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vpnpass/vpnpass/internal/sock"
)

func TestLANDevices(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	modern := write("modern", "config device\n\toption name 'br-lan'\n\toption type 'bridge'\n\nconfig interface 'lan'\n\toption device 'br-lan'\n\toption proto 'static'\n")
	old := write("old", "config interface 'lan'\n\toption type 'bridge'\n\toption ifname 'eth0.1'\n")
	plain := write("plain", "config interface 'lan'\n\toption ifname 'eth0 eth2'\n")
	noLinks := func() ([]sock.Link, error) { return nil, nil }
	brLink := func() ([]sock.Link, error) { return []sock.Link{{Name: "eth0"}, {Name: "br-lan"}}, nil }
	p := netip.MustParsePrefix
	private := func() ([]sock.Link, error) {
		return []sock.Link{
			{Name: "lo", Up: true, Loopback: true, Prefixes: []netip.Prefix{p("127.0.0.1/8")}},
			{Name: "eth1", Up: true, Prefixes: []netip.Prefix{p("10.0.0.2/24")}}, // the WAN
			{Name: "eth2", Up: true, Prefixes: []netip.Prefix{p("fd00::1/64"), p("192.168.7.1/24")}},
			{Name: "eth3", Prefixes: []netip.Prefix{p("192.168.8.1/24")}}, // down
			{Name: "eth4", Up: true, Prefixes: []netip.Prefix{p("198.51.100.1/24")}},
		}, nil
	}
	tests := []struct {
		name       string
		configured []string
		netcfg     string
		links      func() ([]sock.Link, error)
		want       []string
		err        bool
	}{
		{"configured wins", []string{"lan0", "lan1"}, modern, noLinks, []string{"lan0", "lan1"}, false},
		{"OpenWrt 21.02+ device", nil, modern, noLinks, []string{"br-lan"}, false},
		{"OpenWrt 19.07 bridge", nil, old, noLinks, []string{"br-lan"}, false},
		{"OpenWrt plain ifname", nil, plain, noLinks, []string{"eth0"}, false},
		{"no OpenWrt, br-lan exists", nil, filepath.Join(dir, "missing"), brLink, []string{"br-lan"}, false},
		{"up, private IPv4, not the WAN", nil, "", private, []string{"eth2"}, false},
		{"nothing found", nil, "", noLinks, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LANDevices(tc.configured, tc.netcfg, "eth1", tc.links)
			if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("LANDevices = %v, %v; want %v (error %v)", got, err, tc.want, tc.err)
			}
		})
	}
}
