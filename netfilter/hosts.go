package netfilter

import (
	"bytes"
	"net"
	"net/netip"
)

// Host fields a rule can single hosts out by.
const (
	FieldSaddr      = "saddr"
	FieldDaddr      = "daddr"
	FieldEtherSaddr = "ether_saddr"
)

// HostValue is a value some rule compares a host field with: an address
// range (one address, a prefix, a range, a set element) or a MAC.
type HostValue struct {
	Field  string // FieldSaddr, FieldDaddr or FieldEtherSaddr
	Lo, Hi netip.Addr
	MAC    net.HardwareAddr
	// Match is the comparison in nft's words ("ip saddr 192.168.1.0/28").
	Match string
	// Value is the value alone ("192.168.1.0/28"), for the API.
	Value string
}

// AddHostValues appends v to *s: one call instead of append's inline
// growslice and 19-word copies at every site (see internal/slicex).
func AddHostValues(s *[]HostValue, v ...HostValue) { *s = append(*s, v...) }

// Contains tells whether a is in the value's range.
func (v HostValue) Contains(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && v.Lo.IsValid() && a.BitLen() == v.Lo.BitLen() && v.Lo.Compare(a) <= 0 && a.Compare(v.Hi) <= 0
}

// Covers tells whether the value holds every address of p.
func (v HostValue) Covers(p netip.Prefix) bool {
	return v.Contains(p.Masked().Addr()) && v.Contains(LastAddr(p))
}

// Overlaps tells whether the value holds some address of p.
func (v HostValue) Overlaps(p netip.Prefix) bool {
	if !v.Lo.IsValid() || v.Lo.BitLen() != p.Addr().BitLen() {
		return false
	}
	return v.Lo.Compare(LastAddr(p)) <= 0 && p.Masked().Addr().Compare(v.Hi) <= 0
}

// Sample is an address (or MAC) the value holds, preferring a host
// address over a prefix's network address.
func (v HostValue) Sample() (netip.Addr, net.HardwareAddr) {
	if v.MAC != nil {
		return netip.Addr{}, v.MAC
	}
	if n := v.Lo.Next(); v.Lo != v.Hi && n.IsValid() && n.Compare(v.Hi) < 0 {
		return n, nil
	}
	return v.Lo, nil
}

// LastAddr is the highest address of p.
func LastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// Exception is a verdict an element gets for some hosts only: the rules
// single them out by address or MAC (docs/interface.md#status).
type Exception struct {
	Match      string   `json:"match"`
	Saddr      string   `json:"saddr,omitempty"`
	Daddr      string   `json:"daddr,omitempty"`
	EtherSaddr string   `json:"ether_saddr,omitempty"`
	Verdict    Verdict  `json:"verdict"`
	DecidedBy  *Decider `json:"decided_by,omitempty"`
	// Value is what the exception matches, to find the one for a host.
	Value HostValue `json:"-"`
}

// NewException fills the API fields of an exception for v.
func NewException(v HostValue, e Explanation) Exception {
	x := Exception{Match: v.Match, Verdict: e.Verdict, DecidedBy: e.DecidedBy, Value: v}
	switch v.Field {
	case FieldSaddr:
		x.Saddr = v.Value
	case FieldDaddr:
		x.Daddr = v.Value
	case FieldEtherSaddr:
		x.EtherSaddr = v.Value
	}
	return x
}

// For finds the verdict the element gets for one host (src, its MAC) and
// server (dst): the first exception that holds them, else the verdict for
// an arbitrary LAN host. Zero arguments match no exception.
func (s ElementStatus) For(src, dst netip.Addr, mac net.HardwareAddr) (Verdict, *Decider) {
	for _, x := range s.Exceptions {
		v := x.Value
		hit := false
		switch v.Field {
		case FieldSaddr:
			hit = v.Contains(src)
		case FieldDaddr:
			hit = v.Contains(dst)
		case FieldEtherSaddr:
			hit = mac != nil && bytes.Equal(v.MAC, mac)
		}
		if hit {
			return x.Verdict, x.DecidedBy
		}
	}
	return s.Verdict, s.DecidedBy
}
