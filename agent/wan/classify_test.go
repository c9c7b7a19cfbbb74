package wan

import (
	"errors"
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func pfx(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, x := range s {
		out = append(out, netip.MustParsePrefix(x))
	}
	return out
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func wan(addr, gw string) Info {
	i := Info{Device: "eth1", Kind: "veth", Addresses: pfx(addr)}
	if gw != "" {
		i.Gateway = ip(gw)
	}
	return i
}

var labPublic = pfx("198.51.100.0/24")

func TestClassifyAddr(t *testing.T) {
	tests := []struct {
		addr   string
		public []netip.Prefix
		want   Class
		why    string
	}{
		{"81.2.69.160", nil, ClassPublic, "public"},
		{"198.51.100.2", labPublic, ClassPublic, "public_range 198.51.100.0/24"},
		{"198.51.100.2", nil, ClassReserved, "documentation"},
		{"192.0.2.1", nil, ClassReserved, "documentation"},
		{"203.0.113.9", nil, ClassReserved, "documentation"},
		{"10.1.2.3", nil, ClassPrivate, "RFC 1918"},
		{"172.16.0.1", nil, ClassPrivate, "RFC 1918"},
		{"172.31.255.254", nil, ClassPrivate, "RFC 1918"},
		{"172.32.0.1", nil, ClassPublic, "public"},
		{"192.168.0.2", nil, ClassPrivate, "RFC 1918"},
		{"100.64.0.2", nil, ClassCGNAT, "RFC 6598"},
		{"100.127.255.254", nil, ClassCGNAT, "RFC 6598"},
		{"100.128.0.1", nil, ClassPublic, "public"},
		{"169.254.10.1", nil, ClassLinkLocal, "link-local"},
		{"198.18.0.5", nil, ClassReserved, "benchmarking"},
		{"198.19.255.1", nil, ClassReserved, "benchmarking"},
		{"198.20.0.1", nil, ClassPublic, "public"},
		{"0.1.2.3", nil, ClassReserved, "this network"},
		{"127.0.0.2", nil, ClassReserved, "loopback"},
		{"240.0.0.1", nil, ClassReserved, "reserved"},
		{"255.255.255.255", nil, ClassReserved, "reserved"},
		{"224.0.0.1", nil, ClassReserved, "multicast"},
		{"192.0.0.2", nil, ClassReserved, "DS-Lite"},
		{"192.0.0.100", nil, ClassReserved, "IETF"},
		{"192.88.99.1", nil, ClassReserved, "6to4"},
		{"10.0.0.1", pfx("10.0.0.0/8"), ClassPublic, "public_range"},
		{"::ffff:192.168.1.1", nil, ClassPrivate, "RFC 1918"},
	}
	for _, tc := range tests {
		got, why := ClassifyAddr(ip(tc.addr), tc.public)
		if got != tc.want || !strings.Contains(why, tc.why) {
			t.Errorf("%s: got %s (%s), want %s (%s)", tc.addr, got, why, tc.want, tc.why)
		}
	}
}

func TestIsGlobal6(t *testing.T) {
	for addr, want := range map[string]bool{
		"2a00:1450::1": true, "2001:db8::1": false, "3fff::1": false, "fd00::1": false,
		"fe80::1": false, "::1": false, "192.0.2.1": false, "ff02::1": false,
		// the edges of 2000::/3, 2001:db8::/32 and 3fff::/20
		"2000::1": true, "3fff:ffff::1": true, "1fff:ffff::1": false, "4000::1": false,
		"2001:db7:ffff::1": true, "2001:db9::1": true, "3fff:fff:ffff::1": false, "3fff:1000::1": true,
	} {
		if got := IsGlobal6(ip(addr), nil); got != want {
			t.Errorf("%s: got %v, want %v", addr, got, want)
		}
	}
	if !IsGlobal6(ip("2001:db8:fe::2"), pfx("2001:db8:fe::/64")) {
		t.Error("a documentation address inside public_range is not global")
	}
}

// check is what one classification case expects; empty fields are not checked.
type check struct {
	empty      bool // class and code must be empty (no IPv4 verdict)
	noUpstream bool // upstream must be empty
	class      Class
	code       vpn.NATCode
	confirmed  []string
	public     string
	upstream   Upstream
	ipv6       bool
	msgHas     []string
	adviceHas  []string
	adviceNot  []string
}

func TestClassify(t *testing.T) {
	mapE := []NetInterface{{Name: "wan", Proto: "dhcp"}, {Name: "wan6", Proto: "dhcpv6"}, {Name: "wanmap", Proto: "map", Type: "map-e"}}
	dsLite := []NetInterface{{Name: "wan6", Proto: "dhcpv6"}, {Name: "dslite", Proto: "dslite"}}
	stunSees := func(mapped string) Probes {
		return Probes{STUN: &STUNResult{Server: "203.0.113.10:3478", Mapped: netip.MustParseAddrPort(mapped)}}
	}
	sharedNote := []string{"PPTP (GRE)", "cannot work", "NAT-T", "OpenVPN", "WireGuard", "IPv6"}
	tests := []struct {
		name string
		in   Input
		want check
	}{
		{"public", Input{Info: wan("81.2.69.160/24", "81.2.69.1")},
			check{class: ClassPublic, code: vpn.NATOK, confirmed: []string{"address"}, msgHas: []string{"81.2.69.160", "eth1", "only NAT"}}},
		{"lab single NAT via public_range", Input{Info: wan("198.51.100.2/24", "198.51.100.1"), PublicRanges: labPublic},
			check{class: ClassPublic, code: vpn.NATOK, confirmed: []string{"address"}, msgHas: []string{"public_range"}}},
		{"documentation range without public_range", Input{Info: wan("198.51.100.2/24", "198.51.100.1")},
			check{class: ClassReserved, code: vpn.NATDouble, msgHas: []string{"documentation"}}},
		{"double NAT names the gateway", Input{Info: wan("192.168.0.2/24", "192.168.0.1")},
			check{class: ClassPrivate, code: vpn.NATDouble, confirmed: []string{"address"}, upstream: Upstream{Address: "192.168.0.1"},
				msgHas: []string{"192.168.0.2", "RFC 1918", "double NAT"}, adviceHas: []string{"upstream router at 192.168.0.1", "bridge mode", "IP passthrough"}}},
		{"double NAT without gateway", Input{Info: Info{Device: "pppoe-wan", Addresses: pfx("10.0.0.5/32")}},
			check{class: ClassPrivate, code: vpn.NATDouble, adviceHas: []string{"ISP's modem or router", "bridge mode"}}},
		{"cgnat", Input{Info: wan("100.64.0.2/10", "100.64.0.1")},
			check{class: ClassCGNAT, code: vpn.NATCGNAT, confirmed: []string{"address"}, noUpstream: true,
				msgHas: []string{"carrier-grade NAT"}, adviceHas: []string{"public IPv4", "IPv6", "NAT-T", "OpenVPN"}}},
		{"link-local", Input{Info: wan("169.254.7.7/16", "")},
			check{class: ClassLinkLocal, code: vpn.NATDouble, adviceHas: []string{"DHCP"}}},
		{"benchmarking range", Input{Info: wan("198.18.0.2/15", "198.18.0.1")},
			check{class: ClassReserved, code: vpn.NATDouble, upstream: Upstream{Address: "198.18.0.1"}, msgHas: []string{"benchmarking"}}},
		{"link-local IPv4 beside a real one", Input{Info: Info{Device: "eth1", Addresses: pfx("169.254.1.1/16", "192.168.0.2/24")}},
			check{class: ClassPrivate, code: vpn.NATDouble}},
		{"no default route", Input{},
			check{empty: true, confirmed: []string{}, msgHas: []string{"No IPv4 default route"}}},
		{"no IPv4 on the device, global IPv6", Input{Info: Info{Device: "eth1", Addresses: pfx("2a00:1450::2/64")}},
			check{empty: true, ipv6: true, msgHas: []string{"no IPv4 address"}, adviceHas: []string{"IPv6"}}},
		{"ipv6 global on the other device", Input{Info: Info{Device: "eth1", Addresses: pfx("192.168.0.2/24"), IPv6Device: "eth2", IPv6Addresses: pfx("2a00:1450::2/64")}},
			check{code: vpn.NATDouble, ipv6: true, adviceHas: []string{"VPN over IPv6 needs no NAT passthrough"}}},
		{"documentation IPv6 is not global", Input{Info: Info{Device: "eth1", Addresses: pfx("192.168.0.2/24", "2001:db8:fe::2/64")}},
			check{ipv6: false}},
		{"documentation IPv6 in public_range is global", Input{Info: Info{Device: "eth1", Addresses: pfx("192.168.0.2/24", "2001:db8:fe::2/64")}, PublicRanges: pfx("2001:db8::/32")},
			check{ipv6: true}},
		{"MAP-E tunnel from config", Input{Info: Info{Device: "map-wanmap", Kind: "ip6tnl", Addresses: pfx("81.2.69.160/32"), IPv6Device: "eth1", IPv6Addresses: pfx("2a00:1450::2/64")}, Network: mapE},
			check{class: ClassMAPE, code: vpn.NATIPv4Sharing, confirmed: []string{"address"}, ipv6: true,
				msgHas: []string{"MAP-E", "'wanmap'", "shared"}, adviceHas: sharedNote}},
		{"MAP-T type", Input{Info: Info{Device: "map-wanmap"}, Network: []NetInterface{{Name: "wanmap", Proto: "map", Type: "map-t"}}},
			check{class: ClassMAPE, code: vpn.NATIPv4Sharing, msgHas: []string{"MAP-T"}}},
		{"MAP-E from the device name alone", Input{Info: Info{Device: "map-wan4", Kind: "ip6tnl", Addresses: pfx("81.2.69.160/32")}},
			check{class: ClassMAPE, code: vpn.NATIPv4Sharing}},
		{"MAP-E from config while the tunnel is not up", Input{Network: mapE},
			check{class: ClassMAPE, code: vpn.NATIPv4Sharing, msgHas: []string{"'wanmap'"}}},
		{"DS-Lite tunnel from config", Input{Info: Info{Device: "ds-dslite", Kind: "ip6tnl", Addresses: pfx("192.0.0.2/29"), Gateway: ip("192.0.0.1")}, Network: dsLite},
			check{class: ClassDSLite, code: vpn.NATIPv4Sharing, noUpstream: true, msgHas: []string{"DS-Lite", "'dslite'", "carrier-grade NAT"}, adviceHas: sharedNote}},
		{"DS-Lite from ip6tnl and the B4 address", Input{Info: Info{Device: "aftr", Kind: "ip6tnl", Addresses: pfx("192.0.0.2/29")}},
			check{class: ClassDSLite, code: vpn.NATIPv4Sharing}},
		{"DS-Lite from netifd's proto", Input{Info: Info{Device: "ds-x", Proto: "dslite", Addresses: pfx("192.0.0.2/29")}},
			check{class: ClassDSLite, code: vpn.NATIPv4Sharing}},
		{"ipip6 fixed IP is not shared", Input{Info: Info{Device: "ipip6-fixed", Kind: "ip6tnl", Addresses: pfx("81.2.69.160/32")}, Network: []NetInterface{{Name: "fixed", Proto: "ipip6"}}},
			check{class: ClassPublic, code: vpn.NATOK}},
		{"PPPoE beside a configured MAP-E", Input{Info: Info{Device: "pppoe-wan", Addresses: pfx("81.2.69.160/32")}, Network: mapE},
			check{class: ClassPublic, code: vpn.NATOK}},
		{"disabled MAP-E", Input{Network: []NetInterface{{Name: "wanmap", Proto: "map", Disabled: true}}},
			check{empty: true}},
		{"STUN agrees with a public WAN", Input{Info: wan("198.51.100.2/24", "198.51.100.1"), PublicRanges: labPublic, Probes: stunSees("198.51.100.2:40000")},
			check{code: vpn.NATOK, confirmed: []string{"address", "stun"}, public: "198.51.100.2", msgHas: []string{"STUN server sees the same"}}},
		{"STUN unmasks a public-looking double NAT", Input{Info: wan("81.2.69.160/24", "81.2.69.1"), Probes: stunSees("203.0.113.50:1")},
			check{class: ClassPublic, code: vpn.NATDouble, confirmed: []string{"address", "stun"}, public: "203.0.113.50", msgHas: []string{"looks public", "203.0.113.50"}}},
		{"STUN confirms double NAT", Input{Info: wan("192.168.0.2/24", "192.168.0.1"), Probes: stunSees("198.51.100.2:5555")},
			check{code: vpn.NATDouble, confirmed: []string{"address", "stun"}, public: "198.51.100.2", msgHas: []string{"Confirmed: a STUN server sees this router as 198.51.100.2"}}},
		{"STUN server inside the private network confirms nothing", Input{Info: wan("192.168.0.2/24", "192.168.0.1"), Probes: stunSees("192.168.0.2:5555")},
			check{code: vpn.NATDouble, confirmed: []string{"address"}, public: ""}},
		{"STUN confirms CGNAT", Input{Info: wan("100.64.0.2/10", "100.64.0.1"), Probes: stunSees("198.51.100.2:5555")},
			check{code: vpn.NATCGNAT, confirmed: []string{"address", "stun"}, public: "198.51.100.2"}},
		{"STUN failure is explained", Input{Info: wan("192.168.0.2/24", "192.168.0.1"), Probes: Probes{STUN: &STUNResult{Server: "x", Err: errors.New("stun: no answer in time")}}},
			check{code: vpn.NATDouble, confirmed: []string{"address"}, msgHas: []string{"STUN: stun: no answer in time"}}},
		{"IGD names the model", Input{Info: wan("192.168.0.2/24", "192.168.0.1"), PublicRanges: labPublic,
			Probes: Probes{IGD: &ExternalResult{Gateway: ip("192.168.0.1"), External: ip("198.51.100.2"), Model: "HG-8045Q"}}},
			check{code: vpn.NATDouble, confirmed: []string{"address", "igd"}, public: "198.51.100.2", upstream: Upstream{Address: "192.168.0.1", Model: "HG-8045Q"},
				msgHas: []string{"HG-8045Q at 192.168.0.1", "external address 198.51.100.2"}, adviceHas: []string{"Put the upstream router (HG-8045Q at 192.168.0.1) into bridge mode"}}},
		{"IGD model kept when its SOAP call failed", Input{Info: wan("192.168.0.2/24", "192.168.0.1"),
			Probes: Probes{IGD: &ExternalResult{Gateway: ip("192.168.0.1"), Model: "HG-8045Q", Err: errors.New("igd: UPnP error 501")}}},
			check{code: vpn.NATDouble, confirmed: []string{"address"}, upstream: Upstream{Address: "192.168.0.1", Model: "HG-8045Q"}, msgHas: []string{"UPnP: igd: UPnP error 501"}}},
		{"NAT-PMP external address not public is not the public address", Input{Info: wan("192.168.0.2/24", "192.168.0.1"),
			Probes: Probes{NATPMP: &ExternalResult{Gateway: ip("192.168.0.1"), External: ip("100.64.3.4")}}},
			check{code: vpn.NATDouble, confirmed: []string{"address", "nat-pmp"}, public: "", msgHas: []string{"100.64.3.4", "translated yet again"}}},
		{"NAT-PMP unmasks a public-looking WAN", Input{Info: wan("81.2.69.160/24", "81.2.69.1"),
			Probes: Probes{NATPMP: &ExternalResult{Gateway: ip("81.2.69.1"), External: ip("81.2.70.1")}}},
			check{class: ClassPublic, code: vpn.NATDouble, confirmed: []string{"address", "nat-pmp"}, public: "81.2.70.1", upstream: Upstream{Address: "81.2.69.1"}, msgHas: []string{"NAT-PMP"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Classify(tc.in)
			tc.want.verify(t, got)
			again := Classify(tc.in)
			if !got.Same(again) {
				t.Error("Classify is not deterministic")
			}
		})
	}
}

func (w check) verify(t *testing.T, got Nat) {
	t.Helper()
	if w.empty && (got.Class != "" || got.Code != "") {
		t.Errorf("class %q code %q, want both empty", got.Class, got.Code)
	}
	if w.class != "" && got.Class != w.class {
		t.Errorf("class %q, want %q", got.Class, w.class)
	}
	if w.code != "" && got.Code != w.code {
		t.Errorf("code %q, want %q", got.Code, w.code)
	}
	if w.noUpstream && got.Upstream != (Upstream{}) {
		t.Errorf("upstream %+v, want none", got.Upstream)
	}
	if w.confirmed != nil && !slices.Equal(got.ConfirmedBy, w.confirmed) {
		t.Errorf("confirmed_by %v, want %v", got.ConfirmedBy, w.confirmed)
	}
	if (w.confirmed != nil || w.public != "") && got.PublicAddress != w.public {
		t.Errorf("public_address %q, want %q", got.PublicAddress, w.public)
	}
	if w.upstream != (Upstream{}) && got.Upstream != w.upstream {
		t.Errorf("upstream %+v, want %+v", got.Upstream, w.upstream)
	}
	if got.IPv6Global != w.ipv6 {
		t.Errorf("ipv6_global %v, want %v", got.IPv6Global, w.ipv6)
	}
	for _, s := range w.msgHas {
		if !strings.Contains(got.Message, s) {
			t.Errorf("message %q lacks %q", got.Message, s)
		}
	}
	for _, s := range w.adviceHas {
		if !strings.Contains(got.Advice, s) {
			t.Errorf("advice %q lacks %q", got.Advice, s)
		}
	}
	if got.Message == "" || got.Advice == "" {
		t.Errorf("empty message or advice: %+v", got)
	}
	if got.Addresses == nil || got.ConfirmedBy == nil {
		t.Error("nil slices would encode as null")
	}
}
