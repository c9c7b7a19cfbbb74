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
func (n *NetInterface) TunnelDevice() string {
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

// Address families a protocol carries (Families).
const (
	famBoth   = iota // qmi, mbim, ncm, wwan, wireguard, ...
	fam4             // IPv4 only, IPv4 over IPv6 included
	fam6             // IPv6 only
	fam4Opt6         // IPv4, and IPv6 when configured (ppp)
	famStatic        // the addresses configured
	famNone
)

// protos is, per protocol, the prefix of the device netifd creates when its
// traffic does not leave by `option device` (ppp and tunnels: <prefix>-<name>;
// "" for none) and the address families it carries. A table: a map
// literal is built by init code at every start, and one string switch per
// question cost more.
var protos = [...]struct {
	proto, l3 string
	fam       uint8
}{
	{"pppoe", "pppoe", fam4Opt6}, {"pppoa", "pppoa", fam4Opt6}, {"ppp", "ppp", fam4Opt6}, {"3g", "3g", fam4Opt6},
	{"l2tp", "l2tp", fam4Opt6}, {"pptp", "pptp", fam4Opt6},
	{"map", "map", fam4}, {"dslite", "ds", fam4}, {"ipip6", "ipip6", fam4}, {"464xlat", "464", fam4},
	{"6in4", "6in4", fam6}, {"6rd", "6rd", fam6}, {"6to4", "6to4", fam6}, {"gre", "gre4", fam4}, {"grev6", "gre6", fam6},
	{"dhcp", "", fam4}, {"dhcpv6", "", fam6}, {"static", "", famStatic}, {"none", "", famNone}, {"", "", famNone},
}

// proto finds n's protocol in protos (famBoth and no prefix when unknown).
func (n *NetInterface) proto() (l3 string, fam uint8) {
	for _, p := range protos {
		if p.proto == n.Proto {
			return p.l3, p.fam
		}
	}
	return "", famBoth
}

// L3Device is the device the interface's traffic leaves by, as netifd names
// it, or "" when only the running system knows it (a Wi-Fi uplink without
// a fixed ifname). A device "@other" is an alias: resolve it with Resolve.
func (n *NetInterface) L3Device() string {
	if l3, _ := n.proto(); l3 != "" {
		return l3 + "-" + n.Name
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
func (n *NetInterface) Families() (v4, v6 bool) {
	switch _, fam := n.proto(); fam {
	case fam6:
		return false, true
	case fam4:
		return true, false
	case famStatic:
		return n.IPv4 || !n.IPv6, n.IPv6
	case fam4Opt6:
		return true, n.IPv6
	case famNone:
		return false, false
	}
	return true, true
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
