package wan

import "net/netip"

// special is one IANA special-purpose IPv4 range (RFC 6890 and successors)
// with the words used in messages.
type special struct {
	prefix netip.Prefix
	class  Class
	name   string
}

var specialRanges = []special{
	{netip.MustParsePrefix("0.0.0.0/8"), ClassReserved, `"this network" (RFC 791)`},
	{netip.MustParsePrefix("10.0.0.0/8"), ClassPrivate, "private (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), ClassCGNAT, "the carrier-grade NAT shared space (RFC 6598)"},
	{netip.MustParsePrefix("127.0.0.0/8"), ClassReserved, "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), ClassLinkLocal, "link-local (RFC 3927): no address was obtained from upstream"},
	{netip.MustParsePrefix("172.16.0.0/12"), ClassPrivate, "private (RFC 1918)"},
	{netip.MustParsePrefix("192.0.0.0/24"), ClassReserved, "IETF protocol assignments (RFC 6890)"},
	{netip.MustParsePrefix("192.0.0.0/29"), ClassReserved, "the DS-Lite range (RFC 6333)"},
	{netip.MustParsePrefix("192.0.2.0/24"), ClassReserved, "documentation (RFC 5737)"},
	{netip.MustParsePrefix("192.88.99.0/24"), ClassReserved, "the deprecated 6to4 relay range (RFC 7526)"},
	{netip.MustParsePrefix("192.168.0.0/16"), ClassPrivate, "private (RFC 1918)"},
	{netip.MustParsePrefix("198.18.0.0/15"), ClassReserved, "benchmarking (RFC 2544)"},
	{netip.MustParsePrefix("198.51.100.0/24"), ClassReserved, "documentation (RFC 5737)"},
	{netip.MustParsePrefix("203.0.113.0/24"), ClassReserved, "documentation (RFC 5737)"},
	{netip.MustParsePrefix("224.0.0.0/4"), ClassReserved, "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), ClassReserved, "reserved (RFC 1112)"},
}

// ClassifyAddr tells the class of an IPv4 address and why, in words. An
// address inside one of publicRanges is public whatever range it falls in:
// that is how a lab whose "internet" uses documentation ranges, or an ISP
// that hands out unusual space, is told apart from real double NAT.
func ClassifyAddr(a netip.Addr, publicRanges []netip.Prefix) (Class, string) {
	a = a.Unmap()
	for _, p := range publicRanges {
		if p.Contains(a) {
			return ClassPublic, "public (configured public_range " + p.String() + ")"
		}
	}
	best := -1
	for i, r := range specialRanges {
		if r.prefix.Contains(a) && (best < 0 || r.prefix.Bits() > specialRanges[best].prefix.Bits()) {
			best = i
		}
	}
	if best < 0 {
		return ClassPublic, "public"
	}
	return specialRanges[best].class, specialRanges[best].name
}

// ipv6Documentation are IPv6 ranges that never appear on the internet.
var ipv6Documentation = []netip.Prefix{
	netip.MustParsePrefix("2001:db8::/32"), // RFC 3849
	netip.MustParsePrefix("3fff::/20"),     // RFC 9637
}

// IsGlobal6 reports whether an IPv6 address is a global unicast address
// reachable from the internet (2000::/3 minus documentation ranges, or in
// publicRanges). ULAs and link-local addresses are not.
func IsGlobal6(a netip.Addr, publicRanges []netip.Prefix) bool {
	if !a.Is6() || a.Is4In6() {
		return false
	}
	for _, p := range publicRanges {
		if p.Contains(a) {
			return true
		}
	}
	if !netip.MustParsePrefix("2000::/3").Contains(a) {
		return false
	}
	for _, p := range ipv6Documentation {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
