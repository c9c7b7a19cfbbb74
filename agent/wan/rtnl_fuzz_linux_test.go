package wan

import (
	"net/netip"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/vpnpass/vpnpass/internal/sock"
	"golang.org/x/sys/unix"
)

// FuzzRtnetlink: route, address and link messages (the kernel's, shaped by
// whatever netifd, pppd or a DHCP client configured) parse without a panic;
// a parsed address has a valid prefix.
func FuzzRtnetlink(f *testing.F) {
	f.Add(uint8(0), append(rtmsg(unix.AF_INET, 0, unix.RT_TABLE_MAIN, unix.RTN_UNICAST), attrs(f, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(unix.RTA_OIF, 7)
		ae.Bytes(unix.RTA_GATEWAY, netip.MustParseAddr("192.168.0.1").AsSlice())
		ae.Bytes(unix.RTA_MULTIPATH, []byte{1, 2, 3})
	})...))
	addr := make([]byte, sizeofIfaddrmsg)
	addr[0], addr[1] = unix.AF_INET6, 64
	f.Add(uint8(1), append(addr, attrs(f, func(ae *netlink.AttributeEncoder) {
		ae.Bytes(unix.IFA_ADDRESS, netip.MustParseAddr("2001:db8::2").AsSlice())
	})...))
	f.Add(uint8(2), append(make([]byte, sizeofIfinfomsg), attrs(f, func(ae *netlink.AttributeEncoder) {
		ae.String(unix.IFLA_IFNAME, "pppoe-wan")
		ae.Nested(unix.IFLA_LINKINFO, func(nae *netlink.AttributeEncoder) error {
			nae.String(unix.IFLA_INFO_KIND, "ppp")
			return nil
		})
	})...))
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		switch kind % 3 {
		case 0:
			parseRoute(b)
		case 1:
			if p, _, ok := sock.ParseAddr(b); ok && !p.IsValid() {
				t.Fatalf("%x: parsed invalid prefix %v", b, p)
			}
		case 2:
			sock.ParseLink(b)
		}
	})
}
