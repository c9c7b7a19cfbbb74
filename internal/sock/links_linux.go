package sock

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nlenc"
	"golang.org/x/sys/unix"
)

// Interface addresses over rtnetlink with mdlayher/netlink, which the
// binary links anyway for nftables and conntrack (net.Interfaces would link
// net's interface tables and syscall's netlink reader). Header fields and
// u32 attributes are host-endian (nlenc, AttributeDecoder).

// Sizes of the fixed headers (linux/if_addr.h, linux/if_link.h).
const (
	sizeofIfaddrmsg = 8
	sizeofIfinfomsg = 16
)

// Links lists the interfaces of the calling thread's network namespace with
// their addresses: one dump of links and one of addresses (net.Interfaces
// and Interface.Addrs read the same, in one request per interface).
func Links() ([]Link, error) {
	c, err := netlink.Dial(unix.NETLINK_ROUTE, nil)
	if err != nil {
		return nil, fmt.Errorf("rtnetlink: %w", err)
	}
	defer c.Close()
	msgs, err := dump(c, unix.RTM_GETLINK, sizeofIfinfomsg)
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var out []Link
	for _, m := range msgs {
		if l, err := ParseLink(m.Data); err == nil {
			out = append(out, l)
		}
	}
	if msgs, err = dump(c, unix.RTM_GETADDR, sizeofIfaddrmsg); err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	for _, m := range msgs {
		p, index, ok := ParseAddr(m.Data)
		for i := range out {
			if ok && out[i].Index == int(index) {
				out[i].Prefixes = append(out[i].Prefixes, p)
			}
		}
	}
	return out, nil
}

func dump(c *netlink.Conn, typ uint16, hdrLen int) ([]netlink.Message, error) {
	return c.Execute(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(typ), Flags: netlink.Request | netlink.Dump},
		Data:   make([]byte, hdrLen), // family AF_UNSPEC: all
	})
}

// ParseAddr reads an RTM_NEWADDR: the address with its prefix length and
// the interface index. On point-to-point links IFA_ADDRESS is the peer and
// IFA_LOCAL our own address, so IFA_LOCAL wins when present.
func ParseAddr(b []byte) (none netip.Prefix, _ uint32, _ bool) {
	if len(b) < sizeofIfaddrmsg {
		return none, 0, false
	}
	bits, index := int(b[1]), nlenc.Uint32(b[4:8])
	ad, err := netlink.NewAttributeDecoder(b[sizeofIfaddrmsg:])
	if err != nil {
		return none, 0, false
	}
	var address, local netip.Addr
	for ad.Next() {
		switch ad.Type() {
		case unix.IFA_ADDRESS:
			address, _ = netip.AddrFromSlice(ad.Bytes())
		case unix.IFA_LOCAL:
			local, _ = netip.AddrFromSlice(ad.Bytes())
		}
	}
	if local.IsValid() {
		address = local
	}
	p := netip.PrefixFrom(address.Unmap(), bits)
	return p, index, ad.Err() == nil && p.IsValid()
}

// ParseLink reads an RTM_NEWLINK: index, flags, name and kind (no
// addresses: those come in RTM_NEWADDR).
func ParseLink(b []byte) (none Link, _ error) {
	if len(b) < sizeofIfinfomsg {
		return none, errors.New("short ifinfomsg")
	}
	flags := nlenc.Uint32(b[8:12])
	l := Link{Index: int(nlenc.Uint32(b[4:8])), Up: flags&unix.IFF_UP != 0, Loopback: flags&unix.IFF_LOOPBACK != 0}
	ad, err := netlink.NewAttributeDecoder(b[sizeofIfinfomsg:])
	if err != nil {
		return none, err
	}
	for ad.Next() {
		switch ad.Type() {
		case unix.IFLA_IFNAME:
			l.Name = ad.String()
		case unix.IFLA_LINKINFO:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					if nad.Type() == unix.IFLA_INFO_KIND {
						l.Kind = nad.String()
					}
				}
				return nil
			})
		}
	}
	return l, ad.Err()
}

// LinkByName is the interface called name; ok false when there is none.
func LinkByName(name string) (none Link, _ bool, _ error) {
	ls, err := Links()
	for _, l := range ls {
		if l.Name == name {
			return l, true, nil
		}
	}
	return none, false, err
}

// zoneIndex maps an IPv6 zone (interface name or index) to its index.
func zoneIndex(zone string) uint32 {
	if zone == "" {
		return 0
	}
	if l, ok, _ := LinkByName(zone); ok {
		return uint32(l.Index)
	}
	var n uint32
	for _, ch := range zone {
		if ch < '0' || ch > '9' {
			return 0
		}
		n = n*10 + uint32(ch-'0')
	}
	return n
}
