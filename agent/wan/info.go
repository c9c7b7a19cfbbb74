package wan

import (
	"errors"
	"fmt"
	"github.com/vpnpass/vpnpass/internal/slicex"
	"net/netip"
	"slices"
	"strings"
)

// Info is what discovery found out about the WAN.
type Info struct {
	// Device carries the IPv4 default route (or is the configured override).
	// Empty when there is no IPv4 default route.
	Device string
	// Kind is the link type from netlink ("veth", "ip6tnl", "ppp", ...), when known.
	Kind string
	// Proto is OpenWrt's protocol of the interface ("dhcp", "pppoe", "map",
	// "dslite", ...), when known.
	Proto string
	// Addresses are Device's addresses, IPv4 and IPv6.
	Addresses []netip.Prefix
	// Gateway is the IPv4 default route's next hop; invalid on
	// point-to-point links and tunnels.
	Gateway netip.Addr
	// IPv6Device carries the IPv6 default route when that is another device
	// (MAP-E and DS-Lite: IPv6 on the physical WAN, IPv4 on the tunnel);
	// IPv6Addresses are its addresses.
	IPv6Device    string
	IPv6Addresses []netip.Prefix
}

// Same reports whether two observations are equal, so a change event that
// changes nothing (a route added elsewhere) does not re-evaluate.
func (i *Info) Same(o *Info) bool {
	return i.Device == o.Device && i.Kind == o.Kind && i.Proto == o.Proto &&
		i.Gateway == o.Gateway && i.IPv6Device == o.IPv6Device &&
		slices.Equal(i.Addresses, o.Addresses) && slices.Equal(i.IPv6Addresses, o.IPv6Addresses)
}

// IPv4 returns the address the router's own traffic leaves from: the first
// IPv4 address that is not link-local, else the first IPv4 address.
func (i *Info) IPv4() netip.Addr {
	var ll netip.Addr
	for _, p := range i.Addresses {
		a := p.Addr().Unmap()
		switch {
		case !a.Is4():
		case a.IsLinkLocalUnicast():
			if !ll.IsValid() {
				ll = a
			}
		default:
			return a
		}
	}
	return ll
}

// InterfaceSource tells where the WAN is: netlink, OpenWrt's ubus, or a test.
type InterfaceSource interface {
	WAN() (Info, error)
}

// ErrNoWAN means the source found no WAN (no default route, interface down).
var ErrNoWAN = errors.New("no WAN: no IPv4 default route")

// FirstOf asks each source in turn and returns the first answer without an
// error, e.g. ubus on OpenWrt with netlink as fallback.
func FirstOf(sources ...InterfaceSource) InterfaceSource { return firstOf(sources) }

type firstOf []InterfaceSource

func (f firstOf) WAN() (Info, error) {
	var errs []string
	for _, s := range f {
		info, err := s.WAN()
		if err == nil {
			return info, nil
		}
		slicex.Strings(&errs, err.Error())
	}
	if len(errs) == 0 {
		return Info{}, ErrNoWAN
	}
	return Info{}, fmt.Errorf("wan: %s", strings.Join(errs, "; "))
}

// StaticSource returns a fixed Info; for tests and the CLI's one-off look.
type StaticSource Info

// WAN returns the fixed Info.
func (s StaticSource) WAN() (Info, error) { return Info(s), nil }
