package netfilter

import (
	"sort"

	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/vpn"
)

// WAN is the router's WAN side as rules see it: per address family, the
// devices traffic to the internet leaves by (several with mwan3, a Wi-Fi
// uplink, pppoe-wan, a wan6 on its own device).
//
// A family without devices gets no LAN→WAN rules at all: an empty set never
// means "any device". Otherwise an IPv6-only uplink (wan6, 464xlat) would
// turn every IPv4 allow into "accept to every egress", LAN→LAN included.
type WAN struct {
	IPv4 []string `json:"ipv4"`
	IPv6 []string `json:"ipv6"`
}

// OneWAN is a WAN of a single device carrying both families (what the
// default route names off OpenWrt); "" gives the empty WAN.
func OneWAN(dev string) WAN {
	if dev == "" {
		return WAN{}
	}
	return WAN{IPv4: []string{dev}, IPv6: []string{dev}}
}

// Devices returns the devices of family f.
func (w WAN) Devices(f vpn.Family) []string {
	if f == vpn.IPv6 {
		return w.IPv6
	}
	return w.IPv4
}

// All returns every device of either family, sorted and unique.
func (w WAN) All() []string {
	return SortedUnique(append(append([]string(nil), w.IPv4...), w.IPv6...))
}

// Empty reports whether no family has a device.
func (w WAN) Empty() bool { return len(w.IPv4) == 0 && len(w.IPv6) == 0 }

// Has reports whether dev is a WAN device of either family.
func (w WAN) Has(dev string) bool {
	for _, d := range w.All() {
		if d == dev {
			return true
		}
	}
	return false
}

// Equal compares two WANs as sets per family.
func (w WAN) Equal(o WAN) bool {
	return sameSet(w.IPv4, o.IPv4) && sameSet(w.IPv6, o.IPv6)
}

// Primary is the device a sample LAN→WAN packet of family f is checked
// against (explain, status): the first in sorted order, "" when none.
func (w WAN) Primary(f vpn.Family) string {
	if d := SortedUnique(w.Devices(f)); len(d) > 0 {
		return d[0]
	}
	return ""
}

// SortedUnique returns names sorted without duplicates or empty names: the
// canonical form of a device set.
func SortedUnique(names []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		if n != "" && !seen[n] {
			seen[n] = true
			slicex.Strings(&out, n)
		}
	}
	sort.Sort(sort.StringSlice(out)) // not sort.Strings: see build/sizerules
	return out
}

func sameSet(a, b []string) bool {
	x, y := SortedUnique(a), SortedUnique(b)
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}
