package agent

import (
	"errors"
	"net"

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
	WANDevice  string
	// AutoIncludes is fw4's `auto_includes` (on unless the firewall config
	// sets it to 0); without it fw4 never reads our include.
	AutoIncludes bool
}

// Paths locate the OpenWrt files; tests point them elsewhere.
type Paths struct {
	Network  string
	Firewall string
	Root     string // prefix for the fw4 include files
}

// DefaultPaths are OpenWrt's.
func DefaultPaths() Paths {
	return Paths{Network: DefaultNetworkConfig, Firewall: DefaultFirewallConfig, Root: "/"}
}

// ResolveRouter finds the LAN and WAN devices for cfg in the calling thread's
// network namespace.
func ResolveRouter(cfg config.Config, p Paths) (Router, error) {
	r := Router{WANDevice: cfg.WANDevice, AutoIncludes: autoIncludes(p.Firewall)}
	if r.WANDevice == "" {
		info, err := (&wan.Netlink{}).WAN()
		if err != nil && !errors.Is(err, wan.ErrNoWAN) {
			return r, err
		}
		r.WANDevice = info.Device
	}
	lan, err := LANDevices(cfg.LANDevices, p.Network, r.WANDevice, net.Interfaces)
	r.LANDevices = lan
	return r, err
}

// FirewallOptions builds the composed backend's options.
func FirewallOptions(cfg config.Config, r Router, p Paths, forget func([]netfilter.Protocol) error) fw.Options {
	b := netfilter.Kind(cfg.Backend)
	if cfg.Backend == config.BackendAuto {
		b = ""
	}
	return fw.Options{Backend: b, LANDevices: r.LANDevices, WANDevice: r.WANDevice,
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
