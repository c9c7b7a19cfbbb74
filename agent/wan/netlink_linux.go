package wan

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Netlink discovers the WAN over rtnetlink and reports changes to it.
type Netlink struct {
	_ [0]func() // not comparable: no generated equality function (binary size)
	// NetNS is a file descriptor of the network namespace to look at; 0 is
	// the calling thread's. Tests point it at a lab namespace.
	NetNS int
	// Device overrides the default route's device (config wan_device).
	Device string
}

var (
	_ InterfaceSource = (*Netlink)(nil)
	_ ChangeSource    = (*Netlink)(nil)
)

// WAN implements InterfaceSource: the IPv4 default route's device (or the
// override), its addresses and gateway, and the IPv6 default route's device
// when that is another one. No IPv4 default route gives an Info without
// Device, not an error.
func (n *Netlink) WAN() (none Info, _ error) {
	c, err := dialRoute(n.NetNS, 0)
	if err != nil {
		return none, err
	}
	defer c.Close()
	var info Info
	idx4, gw, err := defaultRoute(c, unix.AF_INET)
	if err != nil {
		return info, err
	}
	if n.Device != "" {
		l, err := getLink(c, 0, n.Device)
		if err != nil {
			return info, fmt.Errorf("wan device %s: %w", n.Device, err)
		}
		if idx4 != uint32(l.Index) {
			gw = netip.Addr{} // the default route's gateway is not on this device
		}
		idx4 = uint32(l.Index)
	}
	if idx4 != 0 {
		if info.Device, info.Kind, info.Addresses, err = device(c, idx4); err != nil {
			return info, err
		}
		info.Gateway = gw
	}
	idx6, _, err := defaultRoute(c, unix.AF_INET6)
	if err != nil {
		return info, err
	}
	if idx6 != 0 && idx6 != idx4 {
		if info.IPv6Device, _, info.IPv6Addresses, err = device(c, idx6); err != nil {
			return info, err
		}
	}
	return info, nil
}

// defaultRoute finds the main table's default route with the lowest metric
// and returns its device index and gateway (0 when there is none).
func defaultRoute(c *netlink.Conn, family uint8) (uint32, netip.Addr, error) {
	routes, err := listRoutes(c, family)
	if err != nil {
		return 0, netip.Addr{}, err
	}
	var best *route
	for i := range routes {
		r := &routes[i]
		if r.family != family || r.dstLen != 0 || r.typ != unix.RTN_UNICAST || r.table != unix.RT_TABLE_MAIN || r.oif == 0 {
			continue
		}
		if best == nil || r.priority < best.priority {
			best = r
		}
	}
	if best == nil {
		return 0, netip.Addr{}, nil
	}
	return best.oif, best.gateway.Unmap(), nil
}

// device reads a device's name, kind and addresses, leaving out IPv6
// link-local addresses (every interface has them; they say nothing).
func device(c *netlink.Conn, index uint32) (string, string, []netip.Prefix, error) {
	l, err := getLink(c, index, "")
	if err != nil {
		return "", "", nil, fmt.Errorf("device %d: %w", index, err)
	}
	all, err := listAddrs(c, index)
	if err != nil {
		return "", "", nil, fmt.Errorf("addresses of %s: %w", l.Name, err)
	}
	var out []netip.Prefix
	for _, p := range all {
		if !(p.Addr().Is6() && p.Addr().IsLinkLocalUnicast()) {
			out = append(out, p)
		}
	}
	return l.Name, l.Kind, out, nil
}

// Multicast groups of address, route and link changes (legacy RTMGRP_* bits).
const changeGroups = unix.RTMGRP_LINK | unix.RTMGRP_IPV4_IFADDR | unix.RTMGRP_IPV4_ROUTE |
	unix.RTMGRP_IPV6_IFADDR | unix.RTMGRP_IPV6_ROUTE

// errSubscriptionClosed means the socket failed for another reason than an
// overrun; Subscribe then subscribes again.
var errSubscriptionClosed = errors.New("netlink subscription closed")

// Subscribe implements ChangeSource: address, route and link changes in
// NetNS. It notifies once as soon as it listens (whatever changed before
// that was not seen), after an overrun (ENOBUFS: changes were lost), and on
// every change; it subscribes again if the socket fails.
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
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(failures+1) * 200 * time.Millisecond):
		}
	}
	return nil
}

func (n *Netlink) subscribeOnce(ctx context.Context, notify func()) error {
	c, err := dialRoute(n.NetNS, changeGroups)
	if err != nil {
		return err
	}
	// No defers (smaller code): the WAN watch's goroutine subscribes, and a
	// panic there ends the process.
	stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Now()) })
	err = receive(ctx, c, notify)
	stop()
	c.Close()
	return err
}

// receive notifies of every change c reads until ctx ends or c fails.
func receive(ctx context.Context, c *netlink.Conn, notify func()) error {
	notify()
	for {
		_, err := c.Receive()
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, unix.ENOBUFS) {
			notify() // overrun: events were dropped, look again
			continue
		}
		if err != nil {
			return fmt.Errorf("%w: %v", errSubscriptionClosed, err)
		}
		notify()
	}
}
