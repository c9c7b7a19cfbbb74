package wan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Netlink discovers the WAN over rtnetlink and reports changes to it.
type Netlink struct {
	// Handle does the queries; nil uses the calling thread's namespace.
	// Tests point it at a namespace with netlink.NewHandleAt.
	Handle *netlink.Handle
	// Namespace is where the subscriptions listen; nil = the current one.
	Namespace *netns.NsHandle
	// Device overrides the default route's device (config wan_device).
	Device string
}

var (
	_ InterfaceSource = (*Netlink)(nil)
	_ ChangeSource    = (*Netlink)(nil)
)

func (n *Netlink) handle() *netlink.Handle {
	if n.Handle != nil {
		return n.Handle
	}
	return &netlink.Handle{} // the package's default: current namespace
}

// WAN implements InterfaceSource: the IPv4 default route's device (or the
// override), its addresses and gateway, and the IPv6 default route's device
// when that is another one. No IPv4 default route gives an Info without
// Device, not an error.
func (n *Netlink) WAN() (Info, error) {
	h := n.handle()
	var info Info
	dev4, gw, err := defaultRoute(h, netlink.FAMILY_V4)
	if err != nil {
		return info, err
	}
	if n.Device != "" {
		link, err := h.LinkByName(n.Device)
		if err != nil {
			return info, fmt.Errorf("wan device %s: %w", n.Device, err)
		}
		if dev4 != nil && dev4.Attrs().Index != link.Attrs().Index {
			gw = netip.Addr{} // the default route's gateway is not on this device
		}
		dev4 = link
	}
	if dev4 != nil {
		info.Device, info.Kind, info.Gateway = dev4.Attrs().Name, dev4.Type(), gw
		if info.Addresses, err = addresses(h, dev4); err != nil {
			return info, err
		}
	}
	dev6, _, err := defaultRoute(h, netlink.FAMILY_V6)
	if err != nil {
		return info, err
	}
	if dev6 != nil && (dev4 == nil || dev6.Attrs().Index != dev4.Attrs().Index) {
		info.IPv6Device = dev6.Attrs().Name
		if info.IPv6Addresses, err = addresses(h, dev6); err != nil {
			return info, err
		}
	}
	return info, nil
}

// defaultRoute finds the main table's default route with the lowest metric
// and returns its device and gateway (first next hop of a multipath route).
func defaultRoute(h *netlink.Handle, family int) (netlink.Link, netip.Addr, error) {
	routes, err := h.RouteList(nil, family)
	if err != nil {
		return nil, netip.Addr{}, fmt.Errorf("list routes: %w", err)
	}
	var best *netlink.Route
	for i := range routes {
		r := &routes[i]
		if !isDefault(r.Dst) || r.Type != unix.RTN_UNICAST {
			continue
		}
		if best == nil || r.Priority < best.Priority {
			best = r
		}
	}
	if best == nil {
		return nil, netip.Addr{}, nil
	}
	index, gwIP := best.LinkIndex, best.Gw
	if len(best.MultiPath) > 0 {
		index, gwIP = best.MultiPath[0].LinkIndex, best.MultiPath[0].Gw
	}
	link, err := h.LinkByIndex(index)
	if err != nil {
		return nil, netip.Addr{}, fmt.Errorf("default route's device %d: %w", index, err)
	}
	gw, _ := netip.AddrFromSlice(gwIP)
	return link, gw.Unmap(), nil
}

func isDefault(dst *net.IPNet) bool {
	if dst == nil {
		return true
	}
	ones, _ := dst.Mask.Size()
	return ones == 0 && dst.IP.IsUnspecified()
}

// addresses lists a device's addresses, leaving out IPv6 link-local ones
// (every interface has them; they say nothing about the WAN).
func addresses(h *netlink.Handle, link netlink.Link) ([]netip.Prefix, error) {
	addrs, err := h.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("addresses of %s: %w", link.Attrs().Name, err)
	}
	var out []netip.Prefix
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if ip.Is6() && ip.IsLinkLocalUnicast() {
			continue
		}
		ones, _ := a.Mask.Size()
		out = append(out, netip.PrefixFrom(ip, ones))
	}
	return out, nil
}

// errSubscriptionClosed means the kernel side ended a subscription (e.g.
// ENOBUFS after an overrun); Subscribe then subscribes again.
var errSubscriptionClosed = errors.New("netlink subscription closed")

// Subscribe implements ChangeSource: address, route and link changes in
// Namespace. It notifies once as soon as it listens (whatever changed before
// that was not seen), and subscribes again after an overrun.
func (n *Netlink) Subscribe(ctx context.Context, notify func()) error {
	failures := 0
	for ctx.Err() == nil {
		err := n.subscribeOnce(ctx, notify)
		if ctx.Err() != nil {
			return nil
		}
		if !errors.Is(err, errSubscriptionClosed) {
			if failures++; failures >= 5 {
				return fmt.Errorf("netlink subscribe: %w", err)
			}
		} else {
			failures = 0
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(failures) * 200 * time.Millisecond):
		}
	}
	return nil
}

func (n *Netlink) subscribeOnce(ctx context.Context, notify func()) error {
	done := make(chan struct{})
	addrs := make(chan netlink.AddrUpdate, 64)
	routes := make(chan netlink.RouteUpdate, 64)
	links := make(chan netlink.LinkUpdate, 64)
	// Each subscription closes its channel when it ends; after close(done)
	// all three must be drained until closed so their goroutines can exit.
	drain := func() {
		close(done)
		for range addrs {
		}
		for range routes {
		}
		for range links {
		}
	}
	if err := netlink.AddrSubscribeWithOptions(addrs, done, netlink.AddrSubscribeOptions{Namespace: n.Namespace}); err != nil {
		close(done)
		return fmt.Errorf("addresses: %w", err)
	}
	if err := netlink.RouteSubscribeWithOptions(routes, done, netlink.RouteSubscribeOptions{Namespace: n.Namespace}); err != nil {
		close(done)
		for range addrs {
		}
		return fmt.Errorf("routes: %w", err)
	}
	if err := netlink.LinkSubscribeWithOptions(links, done, netlink.LinkSubscribeOptions{Namespace: n.Namespace}); err != nil {
		close(done)
		for range addrs {
		}
		for range routes {
		}
		return fmt.Errorf("links: %w", err)
	}
	notify()
	for {
		var ok bool
		select {
		case <-ctx.Done():
			drain()
			return nil
		case _, ok = <-addrs:
		case _, ok = <-routes:
		case _, ok = <-links:
		}
		if !ok {
			drain()
			return errSubscriptionClosed
		}
		notify()
	}
}
