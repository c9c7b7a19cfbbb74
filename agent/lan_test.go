package agent

import (
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"
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
	noLinks := func() ([]net.Interface, error) { return nil, nil }
	brLink := func() ([]net.Interface, error) { return []net.Interface{{Name: "eth0"}, {Name: "br-lan"}}, nil }
	tests := []struct {
		name       string
		configured []string
		netcfg     string
		links      func() ([]net.Interface, error)
		want       []string
		err        bool
	}{
		{"configured wins", []string{"lan0", "lan1"}, modern, noLinks, []string{"lan0", "lan1"}, false},
		{"OpenWrt 21.02+ device", nil, modern, noLinks, []string{"br-lan"}, false},
		{"OpenWrt 19.07 bridge", nil, old, noLinks, []string{"br-lan"}, false},
		{"OpenWrt plain ifname", nil, plain, noLinks, []string{"eth0"}, false},
		{"no OpenWrt, br-lan exists", nil, filepath.Join(dir, "missing"), brLink, []string{"br-lan"}, false},
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
