package wan

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/vpnpass/vpnpass/openwrt/uci"
)

// NetInterface is one `config interface` section of OpenWrt's
// /etc/config/network, reduced to what tells the WAN and LAN sides and
// IPv4 sharing apart.
type NetInterface struct {
	_ [0]func() // not comparable: no generated equality function (binary size)

	Name     string // section name, e.g. "wanmap"
	Proto    string // "dhcp", "pppoe", "map", "dslite", "ipip6", "dhcpv6", "464xlat", ...
	Type     string // proto map's `option type`: "map-e" (default), "map-t", "lw4o6"; legacy "bridge"
	Device   string // `option device` (21.02+) or the first word of the legacy `option ifname`
	Disabled bool
	IPv4     bool // static: has `ipaddr`
	IPv6     bool // static: has `ip6addr`; ppp: `ipv6` not '0'
}

// TunnelDevice is the device netifd creates for a tunnel protocol
// ("map-<name>", "ds-<name>", "ipip6-<name>"), or "" for other protocols.
func (n NetInterface) TunnelDevice() string {
	switch n.Proto {
	case "map":
		return "map-" + n.Name
	case "dslite":
		return "ds-" + n.Name
	case "ipip6":
		return "ipip6-" + n.Name
	}
	return ""
}

// l3Prefix is the prefix of the device netifd creates for a protocol whose
// traffic does not leave by `option device` (ppp and tunnels): <prefix>-<name>.
// A table: a map literal is built by init code at every start.
var l3Prefix = [...]struct{ proto, prefix string }{
	{"pppoe", "pppoe"}, {"pppoa", "pppoa"}, {"ppp", "ppp"}, {"3g", "3g"}, {"l2tp", "l2tp"}, {"pptp", "pptp"},
	{"map", "map"}, {"dslite", "ds"}, {"ipip6", "ipip6"}, {"464xlat", "464"},
	{"6in4", "6in4"}, {"6rd", "6rd"}, {"6to4", "6to4"}, {"gre", "gre4"}, {"grev6", "gre6"},
}

// L3Device is the device the interface's traffic leaves by, as netifd names
// it, or "" when only the running system knows it (a Wi-Fi uplink without
// a fixed ifname). A device "@other" is an alias: resolve it with Resolve.
func (n NetInterface) L3Device() string {
	for _, p := range l3Prefix {
		if p.proto == n.Proto {
			return p.prefix + "-" + n.Name
		}
	}
	if n.Proto == "wireguard" {
		return n.Name
	}
	if n.Type == "bridge" && !strings.HasPrefix(n.Device, "@") {
		return "br-" + n.Name // before 21.02 the interface itself made br-<name>
	}
	return n.Device
}

// Families tells which address families the interface carries to the
// internet: IPv6-only protocols (wan6, 6in4) carry no IPv4, and IPv4 over
// IPv6 (MAP-E, DS-Lite, 464xlat) carries IPv4 on its tunnel device only.
func (n NetInterface) Families() (v4, v6 bool) {
	switch n.Proto {
	case "dhcpv6", "6in4", "6rd", "6to4", "grev6":
		return false, true
	case "dhcp", "map", "dslite", "ipip6", "464xlat", "gre":
		return true, false
	case "static":
		return n.IPv4 || !n.IPv6, n.IPv6
	case "pppoe", "pppoa", "ppp", "3g", "l2tp", "pptp":
		return true, n.IPv6
	case "none", "":
		return false, false
	}
	return true, true // qmi, mbim, ncm, wwan, wireguard, ...: both
}

// ReadNetworkConfig parses an OpenWrt network config file; a missing file
// is no error (not OpenWrt) and yields nothing.
func ReadNetworkConfig(path string) ([]NetInterface, error) {
	f, err := uci.ParseFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("network config: %w", err)
	}
	return networkInterfaces(f), nil
}

// networkInterfaces returns the interface sections of a parsed network
// config, in file order.
func networkInterfaces(f *uci.File) []NetInterface {
	var out []NetInterface
	for _, s := range f.SectionsOfType("interface") {
		out = append(out, netInterface(s))
	}
	return out
}

func netInterface(s *uci.Section) NetInterface {
	get := func(k string) string { v, _ := s.Get(k); return v }
	n := NetInterface{Name: s.Name, Proto: get("proto"), Type: get("type"), Device: get("device"),
		Disabled: UCIBool(get("disabled")), IPv4: get("ipaddr") != "", IPv6: get("ip6addr") != ""}
	if n.Device == "" {
		if f := strings.Fields(get("ifname")); len(f) > 0 {
			n.Device = f[0]
		}
	}
	switch n.Proto {
	case "pppoe", "pppoa", "ppp", "3g", "l2tp", "pptp":
		n.IPv6 = get("ipv6") != "0" // 'auto' (the default since 18.06) or '1'
	}
	return n
}

// UCIBool reads a UCI boolean as libuci's users do ('1', 'on', 'true', 'yes', 'enabled').
func UCIBool(v string) bool {
	switch v {
	case "1", "on", "true", "yes", "enabled":
		return true
	}
	return false
}
