package wan

import (
	"net/netip"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nlenc"
	"github.com/vpnpass/vpnpass/internal/sock"
	"golang.org/x/sys/unix"
)

// The messages below are built with host-endian encoders, never as literal
// bytes, so the tests hold on big-endian machines too.

func attrs(t testing.TB, fn func(ae *netlink.AttributeEncoder)) []byte {
	t.Helper()
	ae := netlink.NewAttributeEncoder()
	fn(ae)
	b, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rtmsg(family, dstLen, table, typ uint8) []byte {
	b := make([]byte, sizeofRtmsg)
	b[0], b[1], b[4], b[7] = family, dstLen, table, typ
	return b
}

func TestParseRoute(t *testing.T) {
	gw := netip.MustParseAddr("192.168.0.1")
	plain := append(rtmsg(unix.AF_INET, 0, unix.RT_TABLE_MAIN, unix.RTN_UNICAST), attrs(t, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(unix.RTA_TABLE, unix.RT_TABLE_MAIN)
		ae.Uint32(unix.RTA_PRIORITY, 20)
		ae.Bytes(unix.RTA_GATEWAY, gw.AsSlice())
		ae.Uint32(unix.RTA_OIF, 7)
	})...)
	r, err := parseRoute(plain)
	if err != nil || r.oif != 7 || r.gateway != gw || r.priority != 20 || r.table != unix.RT_TABLE_MAIN || r.typ != unix.RTN_UNICAST {
		t.Fatalf("plain: %+v, %v", r, err)
	}
	// Multipath: the first next hop gives device and gateway.
	nh := attrs(t, func(ae *netlink.AttributeEncoder) {
		ae.Bytes(unix.RTA_GATEWAY, netip.MustParseAddr("10.0.0.1").AsSlice())
	})
	hop := make([]byte, sizeofRtnexthop)
	nlenc.PutUint16(hop[0:2], uint16(sizeofRtnexthop+len(nh)))
	nlenc.PutUint32(hop[4:8], 9)
	hop = append(hop, nh...)
	multi := append(rtmsg(unix.AF_INET, 0, unix.RT_TABLE_MAIN, unix.RTN_UNICAST), attrs(t, func(ae *netlink.AttributeEncoder) {
		ae.Bytes(unix.RTA_MULTIPATH, hop)
	})...)
	r, err = parseRoute(multi)
	if err != nil || r.oif != 9 || r.gateway.String() != "10.0.0.1" {
		t.Fatalf("multipath: %+v, %v", r, err)
	}
	for _, bad := range [][]byte{nil, plain[:5], append(rtmsg(2, 0, 254, 1), 0xff, 0xff)} {
		if _, err := parseRoute(bad); err == nil {
			t.Errorf("%x: no error", bad)
		}
	}
	if idx, gw := firstNexthop([]byte{1, 2}); idx != 0 || gw.IsValid() {
		t.Error("short RTA_MULTIPATH parsed")
	}
}

func TestParseAddr(t *testing.T) {
	hdr := func(bits uint8, index uint32) []byte {
		b := make([]byte, sizeofIfaddrmsg)
		b[0], b[1] = unix.AF_INET, bits
		nlenc.PutUint32(b[4:8], index)
		return b
	}
	// Point-to-point (PPPoE): IFA_ADDRESS is the peer, IFA_LOCAL is ours.
	ptp := append(hdr(32, 4), attrs(t, func(ae *netlink.AttributeEncoder) {
		ae.Bytes(unix.IFA_ADDRESS, netip.MustParseAddr("81.2.64.1").AsSlice())
		ae.Bytes(unix.IFA_LOCAL, netip.MustParseAddr("81.2.69.160").AsSlice())
	})...)
	p, idx, ok := sock.ParseAddr(ptp)
	if !ok || idx != 4 || p.String() != "81.2.69.160/32" {
		t.Fatalf("ptp: %v %d %v", p, idx, ok)
	}
	v6 := append(hdr(64, 5), attrs(t, func(ae *netlink.AttributeEncoder) {
		ae.Bytes(unix.IFA_ADDRESS, netip.MustParseAddr("2001:db8::2").AsSlice())
	})...)
	if p, _, ok := sock.ParseAddr(v6); !ok || p.String() != "2001:db8::2/64" {
		t.Fatalf("v6: %v %v", p, ok)
	}
	if _, _, ok := sock.ParseAddr(hdr(24, 1)); ok {
		t.Error("an address message without address parsed")
	}
	if _, _, ok := sock.ParseAddr([]byte{2}); ok {
		t.Error("short message parsed")
	}
}

func TestParseLink(t *testing.T) {
	b := make([]byte, sizeofIfinfomsg)
	nlenc.PutUint32(b[4:8], 12)
	nlenc.PutUint32(b[8:12], unix.IFF_UP|unix.IFF_RUNNING)
	b = append(b, attrs(t, func(ae *netlink.AttributeEncoder) {
		ae.String(unix.IFLA_IFNAME, "map-wanmap")
		ae.Nested(unix.IFLA_LINKINFO, func(nae *netlink.AttributeEncoder) error {
			nae.String(unix.IFLA_INFO_KIND, "ip6tnl")
			return nil
		})
	})...)
	l, err := sock.ParseLink(b)
	if err != nil || l.Index != 12 || l.Name != "map-wanmap" || l.Kind != "ip6tnl" || !l.Up || l.Loopback {
		t.Fatalf("got %+v, %v", l, err)
	}
	if _, err := sock.ParseLink(b[:3]); err == nil {
		t.Error("short message parsed")
	}
}
