package lab

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// wire creates the links, addresses, routes and sysctls of the topology.
func (l *Lab) wire() error {
	if err := l.links(); err != nil {
		return err
	}
	for _, n := range l.Nodes() {
		if err := upAll(n); err != nil {
			return err
		}
	}
	for _, step := range []func() error{l.addresses4, l.routes4, l.forwarding} {
		if err := step(); err != nil {
			return err
		}
	}
	if l.Config.IPv6 {
		for _, step := range []func() error{l.addresses6, l.routes6} {
			if err := step(); err != nil {
				return err
			}
		}
	}
	for _, n := range l.Nodes() {
		if err := waitRunning(n); err != nil {
			return err
		}
	}
	return nil
}

// waitRunning waits until every link of the node has carrier and is
// operationally up. Until the kernel's link watcher has activated a
// device, its queue discards what is sent: the first packets of a test
// would vanish.
func waitRunning(n *Node) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		links, err := n.nl.LinkList()
		if err != nil {
			return fmt.Errorf("list links in %s: %w", n.Role, err)
		}
		var waiting []string
		for _, link := range links {
			a := link.Attrs()
			if a.Flags&net.FlagLoopback == 0 && (a.OperState != netlink.OperUp || a.RawFlags&unix.IFF_RUNNING == 0) {
				waiting = append(waiting, fmt.Sprintf("%s(%s)", a.Name, a.OperState))
			}
		}
		if len(waiting) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("links in %s not up after 10s: %v", n.Role, waiting)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// links creates the veth pairs and the router's bridge. Every link is
// created inside a lab namespace with its peer placed directly in the other
// one: the root namespace never sees them.
func (l *Lab) links() error {
	if err := veth(l.Router, RouterLANPort1, l.LAN, HostDevice); err != nil {
		return err
	}
	if err := veth(l.Router, RouterLANPort2, l.LAN2, HostDevice); err != nil {
		return err
	}
	if err := l.bridges(); err != nil {
		return err
	}
	if l.ISP == nil {
		return veth(l.Router, l.WANDevice, l.Inet, HostDevice)
	}
	if err := veth(l.Router, l.WANDevice, l.ISP, HostDevice); err != nil {
		return err
	}
	return veth(l.ISP, ISPOuterDevice, l.Inet, HostDevice)
}

// bridges makes br-lan of both LAN ports, or with Config.Guest br-lan of
// lan1 and br-guest of lan2.
func (l *Lab) bridges() error {
	if !l.Config.Guest {
		return bridge(l.Router, LANDevice, RouterLANPort1, RouterLANPort2)
	}
	if err := bridge(l.Router, LANDevice, RouterLANPort1); err != nil {
		return err
	}
	return bridge(l.Router, GuestDevice, RouterLANPort2)
}

// lan2Side is lan2's address and gateway: on br-lan, or on br-guest.
func (l *Lab) lan2Side() (host netip.Prefix, routerDev string, router netip.Prefix) {
	if l.Config.Guest {
		return netip.PrefixFrom(GuestHost, GuestPrefix.Bits()), GuestDevice, netip.PrefixFrom(RouterGuest, GuestPrefix.Bits())
	}
	return netip.PrefixFrom(LANHost2, LANPrefix.Bits()), "", netip.Prefix{}
}

func (l *Lab) addresses4() error {
	switch l.Config.Topology {
	case Single:
		l.RouterWAN, l.Gateway, l.PublicAddr = UpstreamWAN, InetGateway, UpstreamWAN.Addr()
	case Double:
		l.RouterWAN, l.Gateway, l.PublicAddr = DoubleRouterWAN, DoubleISPInner, UpstreamWAN.Addr()
	case CGNAT:
		l.RouterWAN, l.Gateway, l.PublicAddr = CGNATRouterWAN, CGNATISPInner, UpstreamWAN.Addr()
	}
	bits := LANPrefix.Bits()
	lan2, guestDev, guestRouter := l.lan2Side()
	if guestDev != "" {
		if err := addAddr(l.Router, guestDev, guestRouter); err != nil {
			return err
		}
	}
	as := []struct {
		n   *Node
		dev string
		p   netip.Prefix
	}{
		{l.LAN, HostDevice, netip.PrefixFrom(LANHost, bits)},
		{l.LAN2, HostDevice, lan2},
		{l.Router, LANDevice, netip.PrefixFrom(RouterLAN, bits)},
		{l.Router, l.WANDevice, l.RouterWAN},
		{l.Inet, HostDevice, netip.PrefixFrom(InetGateway, UpstreamWAN.Bits())},
		{l.Inet, "lo", netip.PrefixFrom(Server, 32)},
		{l.Inet, "lo", netip.PrefixFrom(Server2, 32)},
	}
	for _, a := range as {
		if err := addAddr(a.n, a.dev, a.p); err != nil {
			return err
		}
	}
	if l.ISP == nil {
		return nil
	}
	if err := addAddr(l.ISP, HostDevice, netip.PrefixFrom(l.Gateway, l.RouterWAN.Bits())); err != nil {
		return err
	}
	return addAddr(l.ISP, ISPOuterDevice, UpstreamWAN)
}

// routes4 gives every box a default route toward the internet. inet gets
// none: it reaches only its directly connected public link, so anything
// not NATed to that link's addresses cannot be answered.
func (l *Lab) routes4() error {
	if err := addDefault(l.LAN, RouterLAN); err != nil {
		return err
	}
	lan2GW := RouterLAN
	if l.Config.Guest {
		lan2GW = RouterGuest
	}
	if err := addDefault(l.LAN2, lan2GW); err != nil {
		return err
	}
	if err := addDefault(l.Router, l.Gateway); err != nil {
		return err
	}
	if l.ISP != nil {
		return addDefault(l.ISP, InetGateway)
	}
	return nil
}

func (l *Lab) addresses6() error {
	l.RouterWAN6, l.Gateway6 = UpstreamWAN6, InetGateway6
	if l.ISP != nil {
		l.RouterWAN6, l.Gateway6 = ISPRouterWAN6, ISPInner6
	}
	as := []struct {
		n   *Node
		dev string
		p   netip.Prefix
	}{
		{l.LAN, HostDevice, netip.PrefixFrom(LANHost6, 64)},
		{l.LAN2, HostDevice, netip.PrefixFrom(LANHost26, 64)},
		{l.Router, LANDevice, netip.PrefixFrom(RouterLAN6, 64)},
		{l.Router, l.WANDevice, l.RouterWAN6},
		{l.Inet, HostDevice, netip.PrefixFrom(InetGateway6, 64)},
		{l.Inet, "lo", netip.PrefixFrom(Server6, 128)},
		{l.Inet, "lo", netip.PrefixFrom(Server26, 128)},
	}
	if l.ISP != nil {
		as = append(as,
			struct {
				n   *Node
				dev string
				p   netip.Prefix
			}{l.ISP, HostDevice, netip.PrefixFrom(ISPInner6, 64)},
			struct {
				n   *Node
				dev string
				p   netip.Prefix
			}{l.ISP, ISPOuterDevice, UpstreamWAN6})
	}
	for _, a := range as {
		if err := addAddr(a.n, a.dev, a.p); err != nil {
			return err
		}
	}
	return nil
}

// routes6: IPv6 is routed end to end, so inet and isp need routes back to
// the LAN prefix (and inet to the router–isp link).
func (l *Lab) routes6() error {
	for _, n := range []*Node{l.LAN, l.LAN2} {
		if err := addDefault(n, RouterLAN6); err != nil {
			return err
		}
	}
	if err := addDefault(l.Router, l.Gateway6); err != nil {
		return err
	}
	upstream := l.RouterWAN6.Addr()
	if l.ISP != nil {
		upstream = UpstreamWAN6.Addr()
		if err := addDefault(l.ISP, InetGateway6); err != nil {
			return err
		}
		if err := addRoute(l.ISP, LANPrefix6, l.RouterWAN6.Addr()); err != nil {
			return err
		}
		if err := addRoute(l.Inet, ISPLink6, upstream); err != nil {
			return err
		}
	}
	return addRoute(l.Inet, LANPrefix6, upstream)
}

// forwarding turns on routing in the router and the isp. Bridged LAN
// traffic must not traverse iptables (br_netfilter is on by default when
// built in; OpenWrt does not load it), so the bridge-nf sysctls go off where
// they exist.
func (l *Lab) forwarding() error {
	for _, n := range []*Node{l.Router, l.ISP} {
		if n == nil {
			continue
		}
		if err := n.Sysctl("net/ipv4/ip_forward", "1"); err != nil {
			return err
		}
		if err := n.Sysctl("net/ipv6/conf/all/forwarding", "1"); err != nil && l.Config.IPv6 {
			return err
		}
	}
	for _, k := range []string{"bridge-nf-call-iptables", "bridge-nf-call-ip6tables", "bridge-nf-call-arptables"} {
		err := l.Router.Sysctl("net/bridge/"+k, "0")
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// vethIndex numbers the near ends of veth pairs. Each namespace numbers
// its links from 1 (lo), so both ends of a pair would often get index 2; the
// kernel then takes the pair for a device without a lower link and delays
// its carrier-up handling by up to a second (linkwatch treats only
// stacked-device events as urgent). Distinct indexes make it immediate.
var vethIndex = map[string]int{RouterLANPort1: 101, RouterLANPort2: 102, ISPOuterDevice + "@isp": 104}

func veth(a *Node, aName string, b *Node, bName string) error {
	idx := vethIndex[aName]
	if a.Role == RoleISP {
		idx = vethIndex[aName+"@isp"]
	} else if a.Role == RoleRouter && idx == 0 {
		idx = 103 // the WAN device, whatever its name
	}
	v := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: aName, Index: idx},
		PeerName:      bName,
		PeerNamespace: netlink.NsFd(b.handle),
	}
	if err := a.nl.LinkAdd(v); err != nil {
		return fmt.Errorf("add veth %s(%s)–%s(%s): %w", aName, a.Role, bName, b.Role, err)
	}
	return nil
}

func bridge(n *Node, name string, ports ...string) error {
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := n.nl.LinkAdd(br); err != nil {
		return fmt.Errorf("add bridge %s in %s: %w", name, n.Role, err)
	}
	for _, p := range ports {
		link, err := n.nl.LinkByName(p)
		if err != nil {
			return fmt.Errorf("find %s in %s: %w", p, n.Role, err)
		}
		if err := n.nl.LinkSetMasterByIndex(link, br.Index); err != nil {
			return fmt.Errorf("enslave %s to %s in %s: %w", p, name, n.Role, err)
		}
	}
	return nil
}

func upAll(n *Node) error {
	links, err := n.nl.LinkList()
	if err != nil {
		return fmt.Errorf("list links in %s: %w", n.Role, err)
	}
	for _, link := range links {
		if err := n.nl.LinkSetUp(link); err != nil {
			return fmt.Errorf("set %s up in %s: %w", link.Attrs().Name, n.Role, err)
		}
	}
	return nil
}

func addAddr(n *Node, dev string, p netip.Prefix) error {
	link, err := n.nl.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("find %s in %s: %w", dev, n.Role, err)
	}
	a := &netlink.Addr{IPNet: ipNet(p)}
	if p.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD // no duplicate detection delay in a lab
	}
	if err := n.nl.AddrAdd(link, a); err != nil {
		return fmt.Errorf("add %s to %s in %s: %w", p, dev, n.Role, err)
	}
	return nil
}

func addDefault(n *Node, gw netip.Addr) error {
	dst := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	if gw.Is6() {
		dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return addRoute(n, dst, gw)
}

func addRoute(n *Node, dst netip.Prefix, gw netip.Addr) error {
	r := &netlink.Route{Dst: ipNet(dst), Gw: net.IP(gw.AsSlice())}
	if err := n.nl.RouteAdd(r); err != nil {
		return fmt.Errorf("add route %s via %s in %s: %w", dst, gw, n.Role, err)
	}
	return nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	bits := 32
	if p.Addr().Is6() {
		bits = 128
	}
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), bits)}
}
