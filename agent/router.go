package agent

import (
	"errors"
	"slices"

	"github.com/vpnpass/vpnpass/internal/sock"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/agent/config"
	"github.com/vpnpass/vpnpass/agent/wan"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/fw"
	"github.com/vpnpass/vpnpass/openwrt/uci"
)

// DefaultFirewallConfig is OpenWrt's firewall configuration (fw3 and fw4).
const DefaultFirewallConfig = "/etc/config/firewall"

// Router is what the agent needs to know about the box it runs on.
type Router struct {
	LANDevices []string
	// WAN are the devices LAN→WAN traffic leaves by, per family.
	WAN netfilter.WAN
	// Unresolved names LAN or WAN interfaces whose device is unknown.
	Unresolved []string
	// AutoIncludes is fw4's `auto_includes` (on unless the firewall config
	// sets it to 0); without it fw4 never reads our include.
	AutoIncludes bool
}

// Paths locate the OpenWrt files; tests point them elsewhere.
type Paths struct {
	_        [0]func() // not comparable: no equality function in the binary
	Network  string
	Firewall string
	Root     string // prefix for the fw4 include files
}

// DefaultPaths are OpenWrt's.
func DefaultPaths() Paths {
	return Paths{Network: DefaultNetworkConfig, Firewall: DefaultFirewallConfig, Root: "/"}
}

// ResolveRouter finds the LAN and WAN devices for cfg in the calling thread's
// network namespace. Configured devices win; else OpenWrt's firewall zones
// (ZoneSides) decide, joined on the WAN side by the IPv4 default route's
// device (a Wi-Fi uplink named only at run time); without a firewall
// config the WAN is the default route's device and the LAN `lan`.
func ResolveRouter(cfg config.Config, p Paths) (r Router, err error) {
	r.AutoIncludes = autoIncludes(p.Firewall)
	sides, zoned, err := ZoneSides(p.Firewall, p.Network)
	if err != nil {
		return r, err
	}
	r.Unresolved = sides.Unresolved
	switch {
	case cfg.WANDevice != "":
		r.WAN = netfilter.OneWAN(cfg.WANDevice)
	default:
		info, err := (&wan.Netlink{}).WAN()
		if err != nil && !errors.Is(err, wan.ErrNoWAN) {
			return r, err
		}
		r.WAN = joinDefaultRoute(sides, zoned, info.Device)
	}
	if len(cfg.LANDevices) == 0 && len(sides.LAN) > 0 {
		r.LANDevices = sides.LAN
		return r, nil
	}
	r.LANDevices, err = LANDevices(cfg.LANDevices, p.Network, r.WAN.Primary(vpn.IPv4), sock.Links)
	return r, err
}

// joinDefaultRoute adds the IPv4 default route's device to the zones' WAN
// (unless the zones call it LAN); without zones it is the whole WAN.
func joinDefaultRoute(s Sides, zoned bool, dev string) netfilter.WAN {
	if !zoned {
		return netfilter.OneWAN(dev)
	}
	w := s.WAN
	if dev != "" && !slices.Contains(s.LAN, dev) {
		w.IPv4 = netfilter.SortedUnique(append(append([]string(nil), w.IPv4...), dev))
	}
	return w
}

// FirewallOptions builds the composed backend's options.
func FirewallOptions(cfg config.Config, r Router, p Paths, forget func([]vpn.Protocol) error) fw.Options {
	b := netfilter.Kind(cfg.Backend)
	if cfg.Backend == config.BackendAuto {
		b = ""
	}
	return fw.Options{Backend: b, LANDevices: r.LANDevices, WAN: r.WAN,
		Root: p.Root, AutoIncludes: r.AutoIncludes, Forget: forget}
}

// autoIncludes reads `config defaults` `option auto_includes` from the
// firewall config; fw4 treats a missing option as on.
func autoIncludes(path string) bool {
	f, err := uci.ParseFile(path)
	if err != nil {
		return true
	}
	for _, s := range f.SectionsOfType("defaults") {
		if v, ok := s.Get("auto_includes"); ok && (v == "0" || v == "false" || v == "off" || v == "no") {
			return false
		}
	}
	return true
}

// routerMoved reports whether the firewall, network or wireless config now
// draws other LAN or WAN devices than the rules were placed for (a guest
// zone added, a WAN joined the wan zone): a reload then re-places them.
func (d *Daemon) routerMoved() bool {
	r, err := ResolveRouter(d.cfg, d.opts.Paths)
	return err == nil && (!slices.Equal(r.LANDevices, d.router.LANDevices) || !r.WAN.Equal(d.router.WAN))
}
