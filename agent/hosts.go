package agent

import (
	"net/netip"
	"os"
	"strings"

	"github.com/vpnpass/vpnpass/internal/lines"
)

// DefaultLeases is dnsmasq's lease file on OpenWrt.
const DefaultLeases = "/tmp/dhcp.leases"

// hostNamer names LAN hosts for findings: the DHCP lease's hostname and MAC
// (dnsmasq: "expiry mac ip hostname clientid"), else the MAC from the
// kernel's neighbour table. Both files are read once per namer.
func hostNamer(leases string) func(netip.Addr) (name, mac string) {
	type host struct {
		_         [0]func() // not comparable: no equality function in the binary
		name, mac string
	}
	known := map[netip.Addr]host{}
	readFields(leases, func(f []string) {
		if len(f) >= 4 {
			if a, err := netip.ParseAddr(f[2]); err == nil {
				name := f[3]
				if name == "*" {
					name = ""
				}
				known[a] = host{name: name, mac: strings.ToLower(f[1])}
			}
		}
	})
	// /proc/net/arp: "IP address  HW type  Flags  HW address  Mask  Device".
	readFields("/proc/net/arp", func(f []string) {
		if len(f) >= 4 && f[3] != "00:00:00:00:00:00" {
			if a, err := netip.ParseAddr(f[0]); err == nil {
				if h, ok := known[a]; !ok || h.mac == "" {
					known[a] = host{name: h.name, mac: strings.ToLower(f[3])}
				}
			}
		}
	})
	return func(a netip.Addr) (string, string) {
		h := known[a.Unmap()]
		return h.name, h.mac
	}
}

func readFields(path string, fn func([]string)) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	// No defer (smaller code): the doctor's goroutine and the CLI read these
	// files, and a panic on either ends the process.
	_ = lines.Each(f, func(l string) { fn(strings.Fields(l)) })
	f.Close()
}
