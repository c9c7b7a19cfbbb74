package fw

import (
	"net"
	"net/netip"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
)

func addrRange(field, lo, hi string) netfilter.HostValue {
	return netfilter.HostValue{Field: field, Lo: netip.MustParseAddr(lo), Hi: netip.MustParseAddr(hi), Match: "ip " + field + " " + lo, Value: lo}
}

// TestRepresentative: the arbitrary LAN host is in the LAN, named by no
// rule that singles out part of the LAN; a rule for the whole LAN does not
// count; the arbitrary server is named by no rule either.
func TestRepresentative(t *testing.T) {
	lan := []netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")}
	tests := []struct {
		name     string
		vals     []netfilter.HostValue
		src, dst string
	}{
		{"no rules", nil, "192.168.1.254", "192.0.2.1"},
		{"a host rule on the top address", []netfilter.HostValue{addrRange("saddr", "192.168.1.254", "192.168.1.254")}, "192.168.1.253", "192.0.2.1"},
		{"the upper half singled out", []netfilter.HostValue{addrRange("saddr", "192.168.1.128", "192.168.1.255")}, "192.168.1.127", "192.0.2.1"},
		{"a zone by subnet holds every host", []netfilter.HostValue{addrRange("saddr", "192.168.1.0", "192.168.1.255")}, "192.168.1.254", "192.0.2.1"},
		{"a server rule", []netfilter.HostValue{addrRange("daddr", "192.0.2.0", "192.0.2.3")}, "192.168.1.254", "192.0.2.4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := representative(vpn.IPv4, lan, tc.vals)
			if h.src.String() != tc.src || h.dst.String() != tc.dst || h.mac.String() != "02:00:00:00:00:01" {
				t.Fatalf("got %s → %s (%s), want %s → %s", h.src, h.dst, h.mac, tc.src, tc.dst)
			}
		})
	}
	if h := representative(vpn.IPv6, lan, nil); h.src.IsValid() {
		t.Fatalf("no IPv6 LAN prefix, yet source %s", h.src)
	}
}

// TestElementFor: a host's verdict is its exception's, else the element's.
func TestElementFor(t *testing.T) {
	mac, _ := net.ParseMAC("02:00:5e:00:53:01")
	st := netfilter.ElementStatus{Verdict: netfilter.Accept, Exceptions: []netfilter.Exception{
		netfilter.NewException(addrRange("saddr", "192.168.1.0", "192.168.1.15"), netfilter.Explanation{Verdict: netfilter.Drop}),
		netfilter.NewException(netfilter.HostValue{Field: "ether_saddr", MAC: mac, Value: mac.String()}, netfilter.Explanation{Verdict: netfilter.Reject}),
	}}
	if st.Exceptions[0].Saddr != "192.168.1.0" || st.Exceptions[1].EtherSaddr != mac.String() {
		t.Fatalf("API fields not filled: %+v", st.Exceptions)
	}
	server := netip.MustParseAddr("203.0.113.10")
	for _, c := range []struct {
		src  string
		mac  net.HardwareAddr
		want netfilter.Verdict
	}{{"192.168.1.10", nil, netfilter.Drop}, {"192.168.1.100", nil, netfilter.Accept}, {"192.168.1.100", mac, netfilter.Reject}} {
		if v, _ := st.For(netip.MustParseAddr(c.src), server, c.mac); v != c.want {
			t.Errorf("%s %s: got %s, want %s", c.src, c.mac, v, c.want)
		}
	}
}
