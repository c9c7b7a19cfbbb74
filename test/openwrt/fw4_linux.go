package openwrt

import (
	"path/filepath"
)

// FW4Config is a firewall4 config for the lab router: zones bound by
// device (netifd, which resolves `list network`, does not run here), LAN
// forwarding to WAN, masquerade on WAN, input rejected from WAN.
const FW4Config = `config defaults
	option input 'REJECT'
	option output 'ACCEPT'
	option forward 'REJECT'
	option synflood_protect '1'

config zone
	option name 'lan'
	list device 'br-lan'
	option input 'ACCEPT'
	option output 'ACCEPT'
	option forward 'ACCEPT'

config zone
	option name 'wan'
	list device 'eth1'
	option input 'REJECT'
	option output 'ACCEPT'
	option forward 'REJECT'
	option masq '1'
	option mtu_fix '1'

config forwarding
	option src 'lan'
	option dest 'wan'
`

// InstallFW4 installs firewall4 into the router as its package does:
// /sbin/fw4 (which is /usr/sbin on Debian), /usr/share/firewall4,
// utpl, an empty /usr/share/nftables.d for includes, and config (FW4Config
// when empty) as /etc/config/firewall. Run StartUbus first: fw4 asks ubus
// for interfaces and procd's firewall data.
func (r *Router) InstallFW4(config string) {
	r.t.Helper()
	if config == "" {
		config = FW4Config
	}
	steps := [][]string{
		{"ln", "-sfn", filepath.Join(r.root, "sbin/fw4"), "/usr/sbin/fw4"},
		{"ln", "-sfn", filepath.Join(r.root, "usr/share/firewall4"), "/usr/share/firewall4"},
		{"ln", "-sfn", filepath.Join(r.root, "usr/bin/utpl"), "/usr/bin/utpl"},
		{"mkdir", "-p", "/usr/share/nftables.d/chain-pre/forward", "/usr/share/nftables.d/table-post"},
	}
	for _, s := range steps {
		if _, err := r.Run("", s[0], s[1:]...); err != nil {
			r.t.Fatalf("install fw4: %v", err)
		}
	}
	if _, err := r.Run(config, "sh", "-c", "cat > /etc/config/firewall"); err != nil {
		r.t.Fatalf("install fw4 config: %v", err)
	}
}

// FW4 runs `fw4 ARGS` as OpenWrt does, with busybox ash: fw4 is `#!/bin/sh`
// with `set -o pipefail`, which Debian's dash rejects.
func (r *Router) FW4(args ...string) ([]byte, error) {
	return r.Run("", "busybox", append([]string{"ash", "/usr/sbin/fw4"}, args...)...)
}
