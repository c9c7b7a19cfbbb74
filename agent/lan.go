package agent

import (
	"errors"
	"github.com/vpnpass/vpnpass/internal/slicex"
	"io/fs"
	"strings"

	"github.com/vpnpass/vpnpass/internal/sock"
	"github.com/vpnpass/vpnpass/openwrt/uci"
)

// DefaultNetworkConfig is OpenWrt's network configuration.
const DefaultNetworkConfig = "/etc/config/network"

// LANDevices resolves the router's LAN devices: the configured list; else
// OpenWrt's `network.lan` device; else br-lan if it exists; else every up,
// non-loopback interface with a private IPv4 address other than the WAN.
func LANDevices(configured []string, networkConfig, wanDevice string, links func() ([]sock.Link, error)) ([]string, error) {
	if len(configured) > 0 {
		return configured, nil
	}
	if dev, err := openwrtLANDevice(networkConfig); err != nil {
		return nil, err
	} else if dev != "" {
		return []string{dev}, nil
	}
	ifs, err := links()
	if err != nil {
		return nil, err
	}
	for _, i := range ifs {
		if i.Name == "br-lan" {
			return []string{"br-lan"}, nil
		}
	}
	var out []string
	for _, i := range ifs {
		if i.Loopback || !i.Up || i.Name == wanDevice {
			continue
		}
		for _, p := range i.Prefixes {
			if p.Addr().Is4() && p.Addr().IsPrivate() {
				slicex.Strings(&out, i.Name)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no LAN device found: set `list lan_device` in the vpnpass config")
	}
	return out, nil
}

// openwrtLANDevice reads `config interface 'lan'`: `option device` on 21.02
// and later; before that `option ifname` with `option type 'bridge'` meant
// the bridge br-lan.
func openwrtLANDevice(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	f, err := uci.ParseFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	s := f.Section("lan")
	if s == nil || s.Type != "interface" {
		return "", nil
	}
	if dev, ok := s.Get("device"); ok && dev != "" {
		return dev, nil
	}
	if typ, _ := s.Get("type"); typ == "bridge" {
		return "br-lan", nil
	}
	if ifn, ok := s.Get("ifname"); ok {
		return strings.Fields(ifn + " ")[0], nil
	}
	return "", nil
}
