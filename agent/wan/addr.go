package wan

import "net/netip"

// special is one IANA special-purpose IPv4 range (RFC 6890 and successors)
// with the words used in messages.
// The address and length are plain data rather than netip.Prefix, which
// only a function call (init code at every start) can build.
type special struct {
	addr  [4]byte
	bits  uint8
	class Class
	name  string
}

func (r special) prefix() netip.Prefix { return netip.PrefixFrom(netip.AddrFrom4(r.addr), int(r.bits)) }

var specialRanges = []special{
	{[4]byte{0, 0, 0, 0}, 8, ClassReserved, `"this network" (RFC 791)`},
	{[4]byte{10, 0, 0, 0}, 8, ClassPrivate, "private (RFC 1918)"},
	{[4]byte{100, 64, 0, 0}, 10, ClassCGNAT, "the carrier-grade NAT shared space (RFC 6598)"},
	{[4]byte{127, 0, 0, 0}, 8, ClassReserved, "loopback"},
	{[4]byte{169, 254, 0, 0}, 16, ClassLinkLocal, "link-local (RFC 3927): no address was obtained from upstream"},
	{[4]byte{172, 16, 0, 0}, 12, ClassPrivate, "private (RFC 1918)"},
	{[4]byte{192, 0, 0, 0}, 24, ClassReserved, "IETF protocol assignments (RFC 6890)"},
	{[4]byte{192, 0, 0, 0}, 29, ClassReserved, "the DS-Lite range (RFC 6333)"},
	{[4]byte{192, 0, 2, 0}, 24, ClassReserved, "documentation (RFC 5737)"},
	{[4]byte{192, 88, 99, 0}, 24, ClassReserved, "the deprecated 6to4 relay range (RFC 7526)"},
	{[4]byte{192, 168, 0, 0}, 16, ClassPrivate, "private (RFC 1918)"},
	{[4]byte{198, 18, 0, 0}, 15, ClassReserved, "benchmarking (RFC 2544)"},
	{[4]byte{198, 51, 100, 0}, 24, ClassReserved, "documentation (RFC 5737)"},
	{[4]byte{203, 0, 113, 0}, 24, ClassReserved, "documentation (RFC 5737)"},
	{[4]byte{224, 0, 0, 0}, 4, ClassReserved, "multicast"},
	{[4]byte{240, 0, 0, 0}, 4, ClassReserved, "reserved (RFC 1112)"},
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
		if r.prefix().Contains(a) && (best < 0 || r.bits > specialRanges[best].bits) {
			best = i
		}
	}
	if best < 0 {
		return ClassPublic, "public"
	}
	return specialRanges[best].class, specialRanges[best].name
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
	b := a.As16()
	// 2000::/3, minus the documentation ranges that never appear on the
	// internet: 2001:db8::/32 (RFC 3849) and 3fff::/20 (RFC 9637).
	return b[0]&0xe0 == 0x20 && !(b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) &&
		!(b[0] == 0x3f && b[1] == 0xff && b[2]&0xf0 == 0)
}
