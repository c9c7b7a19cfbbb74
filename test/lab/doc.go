// Package lab builds throw-away network-namespace topologies in which the
// kernel-facing code of vpnpass is tested: a LAN host behind the router under
// test, optionally an upstream NAT (double NAT or carrier-grade NAT), and an
// "internet" namespace holding the VPN servers. Everything is built over
// netlink (no `ip` binary), so the same code runs inside a minimal VM with
// only busybox.
//
// Single NAT (Config{Topology: Single}):
//
//	lan  192.168.1.10 eth0 ─┐
//	                        ├─ lan1/lan2 ── br-lan 192.168.1.1 [rtr] eth1 198.51.100.2 ── eth0 198.51.100.1 [inet]
//	lan2 192.168.1.11 eth0 ─┘                                                             lo 203.0.113.10, .20
//
// Double NAT (Double) and carrier-grade NAT (CGNAT) add an upstream NAT box:
//
//	lan ── br-lan [rtr] eth1 192.168.0.2 ── eth0 192.168.0.1 [isp] eth1 198.51.100.2 ── eth0 198.51.100.1 [inet]
//	                     eth1 100.64.0.2/10 ── eth0 100.64.0.1   (CGNAT)
//
// The router masquerades on its WAN device (l.WANDevice, "eth1" as OpenWrt
// names it); the isp namespace masquerades on its outer link. The inet
// namespace routes only public and documentation ranges, never 192.168.0.0/16
// or 100.64.0.0/10, so traffic from the LAN only comes back if it was NATed.
// A server therefore sees the router's WAN address in Single and the isp's
// outer address (198.51.100.2) in Double and CGNAT: l.PublicAddr.
//
// With Config.IPv6, the same links also carry documentation IPv6 addresses:
// LAN 2001:db8:1::/64 (router ::1, hosts ::10 and ::11), router–isp
// 2001:db8:fe::/64, upstream–inet 2001:db8:ff::/64, servers 2001:db8:100::10
// and ::20. IPv6 is routed without NAT.
//
// Use:
//
//	l := lab.New(t, lab.Config{Topology: lab.Double, Firewalls: []lab.Firewall{lab.FW4Locked}})
//	l.Inet.ServeUDPEcho(netip.AddrPortFrom(lab.Server, 500))
//	_, seen, err := lab.UDPExchange(l.LAN, netip.AddrPortFrom(lab.Server, 500), []byte("x"), time.Second)
//	// err is "connection refused" (fw4's reject); with lab.FW4 seen.Addr() == l.PublicAddr
//	l.Router.Do(func() error { ... })    // code on a thread inside the router's namespace
//	l.Router.Run("nft", "list", "ruleset") // processes inside it; Start/StartCmd are killed at Close
//
// New skips the test when not root (fails under CI=true) and registers
// Close with t.Cleanup; Build is the same without testing.TB (the demo).
// Firewall options that need nft or iptables binaries skip where those are
// missing (a busybox VM); FirewallNone and NftablesDrop are built over
// netlink and work everywhere.
//
// Namespaces are named "vp<pid>-<hex>-<role>" (roles lan, lan2, rtr, isp,
// inet) and are visible to `ip netns exec` while the lab lives. Sweep removes
// the namespaces of labs whose creating process has died.
package lab

import "net/netip"

// Device names inside the namespaces.
const (
	// LANDevice is the router's LAN bridge, as on OpenWrt.
	LANDevice = "br-lan"
	// DefaultWANDevice is the router's WAN device unless Config.WANDevice
	// names another one.
	DefaultWANDevice = "eth1"
	// HostDevice is the single interface of the LAN hosts and the inet
	// namespace's link toward its upstream; it is also the isp's inner link.
	HostDevice = "eth0"
	// ISPOuterDevice is the isp namespace's link toward inet.
	ISPOuterDevice = "eth1"
	// RouterLANPort1 and RouterLANPort2 are the router's veth ends enslaved
	// to br-lan, toward lan and lan2.
	RouterLANPort1 = "lan1"
	RouterLANPort2 = "lan2"
	// GuestDevice is the router's guest bridge (Config.Guest), holding lan2's port.
	GuestDevice = "br-guest"
)

// Namespace roles, the last part of every namespace name.
const (
	RoleLAN    = "lan"
	RoleLAN2   = "lan2"
	RoleRouter = "rtr"
	RoleISP    = "isp"
	RoleInet   = "inet"
)

// NamePrefix starts the name of every lab namespace.
const NamePrefix = "vp"

// IPv4 addresses and prefixes.
var (
	LANPrefix   = netip.MustParsePrefix("192.168.1.0/24")
	LANHost     = netip.MustParseAddr("192.168.1.10")
	LANHost2    = netip.MustParseAddr("192.168.1.11")
	RouterLAN   = netip.MustParseAddr("192.168.1.1")
	Server      = netip.MustParseAddr("203.0.113.10")
	Server2     = netip.MustParseAddr("203.0.113.20")
	InetGateway = netip.MustParseAddr("198.51.100.1")
	// With Config.Guest, lan2 sits on br-guest: GuestHost behind RouterGuest.
	GuestPrefix = netip.MustParsePrefix("192.168.3.0/24")
	GuestHost   = netip.MustParseAddr("192.168.3.11")
	RouterGuest = netip.MustParseAddr("192.168.3.1")
	// UpstreamWAN is the address on the inet side's link of whichever box
	// faces inet: the router in Single, the isp in Double and CGNAT.
	UpstreamWAN = netip.MustParsePrefix("198.51.100.2/24")

	DoubleRouterWAN = netip.MustParsePrefix("192.168.0.2/24")
	DoubleISPInner  = netip.MustParseAddr("192.168.0.1")
	CGNATRouterWAN  = netip.MustParsePrefix("100.64.0.2/10")
	CGNATISPInner   = netip.MustParseAddr("100.64.0.1")
)

// IPv6 addresses and prefixes (Config.IPv6).
var (
	LANPrefix6   = netip.MustParsePrefix("2001:db8:1::/64")
	LANHost6     = netip.MustParseAddr("2001:db8:1::10")
	LANHost26    = netip.MustParseAddr("2001:db8:1::11")
	RouterLAN6   = netip.MustParseAddr("2001:db8:1::1")
	Server6      = netip.MustParseAddr("2001:db8:100::10")
	Server26     = netip.MustParseAddr("2001:db8:100::20")
	InetGateway6 = netip.MustParseAddr("2001:db8:ff::1")
	UpstreamWAN6 = netip.MustParsePrefix("2001:db8:ff::2/64")
	// ISPLink6 is the router–isp link in Double and CGNAT: router ::2, isp ::1.
	ISPLink6      = netip.MustParsePrefix("2001:db8:fe::/64")
	ISPRouterWAN6 = netip.MustParsePrefix("2001:db8:fe::2/64")
	ISPInner6     = netip.MustParseAddr("2001:db8:fe::1")
)
