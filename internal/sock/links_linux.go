package sock

import (
	"net/netip"
	"os"
	"syscall"
	"unsafe"
)

// Links lists the interfaces of the calling thread's network namespace with
// their addresses, from one rtnetlink dump of links and one of addresses
// (what net.Interfaces and Interface.Addrs read, in two requests instead of
// one per interface).
func Links() ([]Link, error) {
	var out []Link
	msgs, err := dump(syscall.RTM_GETLINK)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if m.Header.Type != syscall.RTM_NEWLINK || len(m.Data) < syscall.SizeofIfInfomsg {
			continue
		}
		ifi := (*syscall.IfInfomsg)(unsafe.Pointer(&m.Data[0]))
		l := Link{Index: int(ifi.Index), Up: ifi.Flags&syscall.IFF_UP != 0, Loopback: ifi.Flags&syscall.IFF_LOOPBACK != 0}
		attrs, _ := syscall.ParseNetlinkRouteAttr(&m)
		for _, a := range attrs {
			if a.Attr.Type == syscall.IFLA_IFNAME && len(a.Value) > 0 {
				l.Name = cstring(a.Value)
			}
		}
		out = append(out, l)
	}
	if msgs, err = dump(syscall.RTM_GETADDR); err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if m.Header.Type != syscall.RTM_NEWADDR || len(m.Data) < syscall.SizeofIfAddrmsg {
			continue
		}
		ifa := (*syscall.IfAddrmsg)(unsafe.Pointer(&m.Data[0]))
		p, ok := addrPrefix(&m, int(ifa.Prefixlen))
		for i := range out {
			if ok && out[i].Index == int(ifa.Index) {
				out[i].Prefixes = append(out[i].Prefixes, p)
			}
		}
	}
	return out, nil
}

// addrPrefix is an RTM_NEWADDR's address: IFA_LOCAL when present (on a
// point-to-point link IFA_ADDRESS is the peer's), else IFA_ADDRESS.
func addrPrefix(m *syscall.NetlinkMessage, bits int) (netip.Prefix, bool) {
	attrs, err := syscall.ParseNetlinkRouteAttr(m)
	if err != nil {
		return netip.Prefix{}, false
	}
	var ip netip.Addr
	for _, a := range attrs {
		if a.Attr.Type == syscall.IFA_LOCAL || a.Attr.Type == syscall.IFA_ADDRESS && !ip.IsValid() {
			ip, _ = netip.AddrFromSlice(a.Value)
		}
	}
	return netip.PrefixFrom(ip, bits), ip.IsValid()
}

func dump(typ int) ([]syscall.NetlinkMessage, error) {
	rib, err := syscall.NetlinkRIB(typ, syscall.AF_UNSPEC)
	if err != nil {
		return nil, os.NewSyscallError("netlinkrib", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, os.NewSyscallError("parsenetlinkmessage", err)
	}
	return msgs, nil
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// LinkByName is the interface called name; ok false when there is none.
func LinkByName(name string) (Link, bool, error) {
	ls, err := Links()
	for _, l := range ls {
		if l.Name == name {
			return l, true, nil
		}
	}
	return Link{}, false, err
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
