package wan

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nlenc"
	"github.com/vpnpass/vpnpass/internal/sock"
	"golang.org/x/sys/unix"
)

// A small rtnetlink reader on mdlayher/netlink (addresses and links are
// parsed by internal/sock, which lists the interfaces with the same code), which the binary links
// anyway for nftables and conntrack. It reads only the route, address and
// link fields the WAN verdict needs; vishvananda/netlink did the same job
// for ~320 KiB more on mips (it parses every link and route encap type).
// Header fields and u32 attributes are host-endian (nlenc, AttributeDecoder).

// Sizes of the fixed headers (linux/rtnetlink.h, linux/if_addr.h, linux/if_link.h).
const (
	sizeofRtmsg     = 12
	sizeofIfaddrmsg = 8
	sizeofIfinfomsg = 16
	sizeofRtnexthop = 8
)

// route is one parsed RTM_NEWROUTE.
type route struct {
	_ [0]func() // not comparable: no generated equality function (binary size)

	family   uint8
	dstLen   uint8
	typ      uint8
	table    uint32
	oif      uint32
	gateway  netip.Addr
	priority uint32
}

func dialRoute(netns int, groups uint32) (*netlink.Conn, error) {
	c, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: netns, Groups: groups})
	if err != nil {
		return nil, fmt.Errorf("rtnetlink: %w", err)
	}
	return c, nil
}

func request(c *netlink.Conn, typ uint16, flags netlink.HeaderFlags, data []byte) ([]netlink.Message, error) {
	return c.Execute(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(typ), Flags: netlink.Request | flags},
		Data:   data,
	})
}

// listRoutes dumps the routes of one family.
func listRoutes(c *netlink.Conn, family uint8) ([]route, error) {
	hdr := make([]byte, sizeofRtmsg)
	hdr[0] = family
	msgs, err := request(c, unix.RTM_GETROUTE, netlink.Dump, hdr)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	var out []route
	for _, m := range msgs {
		if r, err := parseRoute(m.Data); err == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

func parseRoute(b []byte) (none route, _ error) {
	if len(b) < sizeofRtmsg {
		return none, errors.New("short rtmsg")
	}
	r := route{family: b[0], dstLen: b[1], table: uint32(b[4]), typ: b[7]}
	ad, err := netlink.NewAttributeDecoder(b[sizeofRtmsg:])
	if err != nil {
		return none, err
	}
	for ad.Next() {
		switch ad.Type() {
		case unix.RTA_OIF:
			r.oif = ad.Uint32()
		case unix.RTA_GATEWAY:
			r.gateway, _ = netip.AddrFromSlice(ad.Bytes())
		case unix.RTA_PRIORITY:
			r.priority = ad.Uint32()
		case unix.RTA_TABLE:
			r.table = ad.Uint32()
		case unix.RTA_MULTIPATH:
			if r.oif == 0 {
				r.oif, r.gateway = firstNexthop(ad.Bytes())
			}
		}
	}
	return r, ad.Err()
}

// firstNexthop reads the first struct rtnexthop of RTA_MULTIPATH and its
// RTA_GATEWAY.
func firstNexthop(b []byte) (uint32, netip.Addr) {
	if len(b) < sizeofRtnexthop {
		return 0, netip.Addr{}
	}
	n := int(nlenc.Uint16(b[0:2]))
	index := nlenc.Uint32(b[4:8])
	var gw netip.Addr
	if n > len(b) || n < sizeofRtnexthop {
		return index, gw
	}
	if ad, err := netlink.NewAttributeDecoder(b[sizeofRtnexthop:n]); err == nil {
		for ad.Next() {
			if ad.Type() == unix.RTA_GATEWAY {
				gw, _ = netip.AddrFromSlice(ad.Bytes())
			}
		}
	}
	return index, gw
}

// listAddrs dumps the addresses of the interface with the given index.
func listAddrs(c *netlink.Conn, index uint32) ([]netip.Prefix, error) {
	hdr := make([]byte, sizeofIfaddrmsg)
	hdr[0] = unix.AF_UNSPEC
	msgs, err := request(c, unix.RTM_GETADDR, netlink.Dump, hdr)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	var out []netip.Prefix
	for _, m := range msgs {
		if p, idx, ok := sock.ParseAddr(m.Data); ok && idx == index {
			out = append(out, p)
		}
	}
	return out, nil
}

// getLink asks for one interface by index (name "") or by name.
func getLink(c *netlink.Conn, index uint32, name string) (none sock.Link, _ error) {
	hdr := make([]byte, sizeofIfinfomsg)
	hdr[0] = unix.AF_UNSPEC
	nlenc.PutUint32(hdr[4:8], index)
	if name != "" {
		ae := netlink.NewAttributeEncoder()
		ae.String(unix.IFLA_IFNAME, name)
		attrs, err := ae.Encode()
		if err != nil {
			return none, err
		}
		hdr = append(hdr, attrs...)
	}
	msgs, err := request(c, unix.RTM_GETLINK, 0, hdr)
	if err != nil {
		return none, err
	}
	for _, m := range msgs {
		if l, err := sock.ParseLink(m.Data); err == nil {
			return l, nil
		}
	}
	return none, errors.New("no such interface")
}
