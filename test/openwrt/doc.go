// Package openwrt runs vpnpass against the real OpenWrt userland (ubusd, rpcd,
// uhttpd's /ubus, uci, ucode, firewall4) built from upstream sources into a
// root outside this repository (docs/openwrt-testing.md lists the components
// and their commits).
//
// The tests need VPNPASS_OPENWRT_ROOT (the install root, laid out like a
// router) and root privileges. Without VPNPASS_OPENWRT_ROOT they skip, so
// `go test ./...` passes on a machine without the userland; `make
// test-openwrt` sets it, and there a missing or incomplete root fails.
//
// The daemons have hard-coded paths (/etc/config, /usr/share/rpcd/acl.d,
// /usr/libexec/rpcd, /var/run/ubus/ubus.sock, /tmp/.uci). Each test router
// therefore gets its own mount namespace, inside the lab router's network
// namespace, with overlays on /usr and /etc and private /run and /tmp: the
// machine's own files are never written.
package openwrt
