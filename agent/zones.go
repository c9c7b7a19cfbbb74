package agent

import (
	"errors"
	"github.com/vpnpass/vpnpass/internal/slicex"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vpnpass/vpnpass/agent/wan"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/openwrt/uci"
)

// Sides are the router's LAN and WAN as OpenWrt's firewall config draws
// them: the WAN zone (masquerading, or holding the interface `wan`) with
// every interface in it (mwan3's wan, wanb, ...; wwan; wan6), and as LAN
// every zone that forwards to it (lan, guest, iot, ...).
type Sides struct {
	LAN []string
	WAN netfilter.WAN
	// Unresolved names interfaces of those zones whose device only the
	// running system knows (a Wi-Fi network without a fixed ifname).
	Unresolved []string
}

type zone struct {
	name     string
	networks []string
	devices  []string
	wan      bool
	v4, v6   bool // the zone's `family` allows it
}

// ZoneSides derives the sides from the firewall, network and wireless
// configs. ok is false when there is no firewall config (not OpenWrt, or
// no firewall package): the caller then falls back to `lan`.
func ZoneSides(firewallPath, networkPath string) (s Sides, ok bool, err error) {
	fwf, err := uci.ParseFile(firewallPath)
	if errors.Is(err, fs.ErrNotExist) || firewallPath == "" {
		return s, false, nil
	}
	if err != nil {
		return s, false, err
	}
	ifaces, err := networkIfaces(networkPath)
	if err != nil {
		return s, false, err
	}
	zones := readZones(fwf)
	lanZones := forwardingToWAN(fwf, zones)
	var v4, v6, lan []string
	for _, z := range zones {
		if !z.wan && !lanZones[z.name] {
			continue
		}
		devs, unresolved := zoneDevices(z, ifaces)
		slicex.Strings(&s.Unresolved, unresolved...)
		if !z.wan {
			for _, d := range devs {
				slicex.Strings(&lan, d.name)
			}
			continue
		}
		for _, d := range devs {
			if d.v4 && z.v4 {
				slicex.Strings(&v4, d.name)
			}
			if d.v6 && z.v6 {
				slicex.Strings(&v6, d.name)
			}
		}
	}
	s.LAN = netfilter.SortedUnique(lan)
	s.WAN = netfilter.WAN{IPv4: netfilter.SortedUnique(v4), IPv6: netfilter.SortedUnique(v6)}
	return s, true, nil
}

func readZones(f *uci.File) []zone {
	var out []zone
	for _, s := range f.SectionsOfType("zone") {
		name, _ := s.Get("name")
		if name == "" || s.Option("enabled") != nil && !wan.UCIBool(optionValue(s, "enabled")) {
			continue
		}
		z := zone{name: name, networks: words(s.Option("network")), devices: words(s.Option("device")), v4: true, v6: true}
		switch optionValue(s, "family") {
		case "ipv4", "4":
			z.v6 = false
		case "ipv6", "6":
			z.v4 = false
		}
		z.wan = wan.UCIBool(optionValue(s, "masq")) || slices.Contains(z.networks, "wan")
		out = append(out, z)
	}
	return out
}

// forwardingToWAN names the zones with an enabled forwarding to a WAN zone.
func forwardingToWAN(f *uci.File, zones []zone) map[string]bool {
	isWAN := map[string]bool{}
	for _, z := range zones {
		isWAN[z.name] = z.wan
	}
	out := map[string]bool{}
	for _, s := range f.SectionsOfType("forwarding") {
		if s.Option("enabled") != nil && !wan.UCIBool(optionValue(s, "enabled")) {
			continue
		}
		src, dest := optionValue(s, "src"), optionValue(s, "dest")
		if isWAN[dest] && !isWAN[src] {
			out[src] = true
		}
	}
	return out
}

type zoneDev struct {
	_      [0]func() // not comparable: no equality function in the binary
	name   string
	v4, v6 bool
}

// zoneDevices resolves a zone's networks to devices (`list device` entries
// carry both families). Wildcards and negations (`tun+`, `!eth0`) are not
// devices we can name in a rule and are left out.
func zoneDevices(z zone, ifaces map[string]wan.NetInterface) (devs []zoneDev, unresolved []string) {
	for _, d := range z.devices {
		if plainDevice(d) {
			devs = append(devs, zoneDev{name: d, v4: true, v6: true})
		}
	}
	for _, name := range z.networks {
		n, ok := ifaces[name]
		if !ok || n.Disabled {
			continue
		}
		dev := l3Device(n, ifaces)
		v4, v6 := n.Families()
		switch {
		case dev == "":
			slicex.Strings(&unresolved, name)
		case plainDevice(dev) && (v4 || v6):
			devs = append(devs, zoneDev{name: dev, v4: v4, v6: v6})
		}
	}
	return devs, unresolved
}

// l3Device resolves `option device '@wan'` aliases (wan6 on a PPPoE line
// leaves by pppoe-wan), following at most a few links.
func l3Device(n wan.NetInterface, ifaces map[string]wan.NetInterface) string {
	for i := 0; i < 4; i++ {
		dev := n.L3Device()
		if !strings.HasPrefix(dev, "@") {
			return dev
		}
		next, ok := ifaces[dev[1:]]
		if !ok {
			return ""
		}
		n = next
	}
	return ""
}

func plainDevice(d string) bool { return d != "" && !strings.ContainsAny(d, "+*!/ ") }

// networkIfaces reads the network config, and gives Wi-Fi networks the
// fixed ifname the wireless config sets for them.
func networkIfaces(networkPath string) (map[string]wan.NetInterface, error) {
	list, err := wan.ReadNetworkConfig(networkPath)
	if err != nil {
		return nil, err
	}
	out := map[string]wan.NetInterface{}
	for _, n := range list {
		out[n.Name] = n
	}
	wl, err := uci.ParseFile(filepath.Join(filepath.Dir(networkPath), "wireless"))
	if err != nil {
		return out, nil // no wireless config, or one netifd could not read either
	}
	for _, s := range wl.SectionsOfType("wifi-iface") {
		ifname := optionValue(s, "ifname")
		if ifname == "" || wan.UCIBool(optionValue(s, "disabled")) {
			continue
		}
		for _, net := range words(s.Option("network")) {
			if n, ok := out[net]; ok && n.L3Device() == "" {
				n.Device = ifname
				out[net] = n
			}
		}
	}
	return out, nil
}

func optionValue(s *uci.Section, name string) string {
	v, _ := s.Get(name)
	return v
}

// words splits an option's values on blanks: `list network 'lan'` and the
// older `option network 'lan lan6'` both occur.
func words(o *uci.Option) []string {
	if o == nil {
		return nil
	}
	var out []string
	for _, v := range o.Values {
		slicex.Strings(&out, strings.Fields(v)...)
	}
	return out
}
