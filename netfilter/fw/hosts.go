package fw

import (
	"bytes"
	"net"
	"net/netip"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
)

// maxProbe bounds the addresses tried when looking for one no rule names.
const maxProbe = 256

// Where arbitrary servers are taken from: documentation ranges, which no
// real rule singles out unless a test does (then the next one is taken).
// (192.0.2.1 and 2001:db8:ffff::1, built without a map or parsing at init.)
func serverBase(f vpn.Family) netip.Addr {
	switch f {
	case vpn.IPv4:
		return netip.AddrFrom4([4]byte{192, 0, 2, 1})
	case vpn.IPv6:
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 15: 1})
	}
	return netip.Addr{}
}

// baseMAC is the first MAC tried for an arbitrary LAN host (locally
// administered).
var baseMAC = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}

// representative picks an arbitrary LAN host and server: a LAN address,
// MAC and server address that no rule's host value holds, except values
// that hold the whole LAN (every LAN host matches those). Without a LAN
// prefix for the family, the source stays unknown.
func representative(f vpn.Family, lans []netip.Prefix, vals []netfilter.HostValue) host {
	var h host
	for _, p := range lans {
		if (f == vpn.IPv4) != p.Addr().Is4() {
			continue
		}
		if a, ok := freeAddr(p, vals, netfilter.LastAddr(p).Prev(), false); ok {
			h.src = a
			break
		}
	}
	if a, ok := freeAddr(netip.Prefix{}, vals, serverBase(f), true); ok && !inAny(a, lans) {
		h.dst = a
	}
	h.mac = freeMAC(vals)
	return h
}

// freeAddr walks from start (inside lan, when lan is valid), up or down,
// to an address no value holds that only partly covers lan.
func freeAddr(lan netip.Prefix, vals []netfilter.HostValue, start netip.Addr, up bool) (netip.Addr, bool) {
	a := start
	for i := 0; i < maxProbe && a.IsValid(); i, a = i+1, step(a, up) {
		if lan.IsValid() && (!lan.Contains(a) || a == lan.Masked().Addr()) {
			return netip.Addr{}, false
		}
		taken := false
		for _, v := range vals {
			if v.Field == netfilter.FieldEtherSaddr || !v.Contains(a) || lan.IsValid() && v.Covers(lan) {
				continue
			}
			if (v.Field == netfilter.FieldSaddr) == lan.IsValid() {
				taken = true
				break
			}
		}
		if !taken {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func step(a netip.Addr, up bool) netip.Addr {
	if up {
		return a.Next()
	}
	return a.Prev()
}

func freeMAC(vals []netfilter.HostValue) net.HardwareAddr {
	mac := append(net.HardwareAddr(nil), baseMAC...)
	for i := 0; i < maxProbe; i++ {
		taken := false
		for _, v := range vals {
			if v.Field == netfilter.FieldEtherSaddr && bytes.Equal(v.MAC, mac) {
				taken = true
			}
		}
		if !taken {
			return mac
		}
		mac[5]++
	}
	return nil
}

func inAny(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// exceptions evaluates the element for a host or server holding each host
// value (the other fields staying arbitrary) and keeps the values whose
// verdict differs from base's. Source values that hold the whole LAN are
// no exception: every LAN host matches them.
func exceptions(hk Hooks, o InspectOptions, e vpn.Element, rep host, base netfilter.Explanation, vals []netfilter.HostValue) []netfilter.Exception {
	var out []netfilter.Exception
	for _, v := range vals {
		h := rep
		a, mac := v.Sample()
		switch v.Field {
		case netfilter.FieldSaddr:
			if coversLAN(v, o.LANPrefixes) || !rep.src.IsValid() {
				continue
			}
			h.src = a
		case netfilter.FieldDaddr:
			if !rep.dst.IsValid() {
				continue
			}
			h.dst = a
		case netfilter.FieldEtherSaddr:
			h.mac = mac
		}
		ex := forwardVerdict(hk, lanToWAN(e, o, h))
		if ex.Verdict != base.Verdict {
			out = append(out, netfilter.NewException(v, ex))
		}
	}
	return out
}

func coversLAN(v netfilter.HostValue, lans []netip.Prefix) bool {
	for _, p := range lans {
		if v.Covers(p) {
			return true
		}
	}
	return false
}
