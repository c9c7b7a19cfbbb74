package wan

import "testing"

// Every protocol's L3 device and address families (the protos table).
func TestProtoTable(t *testing.T) {
	tests := []struct {
		proto, l3 string
		v4, v6    bool // with neither address configured
	}{
		{"pppoe", "pppoe-wan", true, false}, {"pppoa", "pppoa-wan", true, false}, {"ppp", "ppp-wan", true, false},
		{"3g", "3g-wan", true, false}, {"l2tp", "l2tp-wan", true, false}, {"pptp", "pptp-wan", true, false},
		{"map", "map-wan", true, false}, {"dslite", "ds-wan", true, false}, {"ipip6", "ipip6-wan", true, false},
		{"464xlat", "464-wan", true, false}, {"gre", "gre4-wan", true, false},
		{"6in4", "6in4-wan", false, true}, {"6rd", "6rd-wan", false, true}, {"6to4", "6to4-wan", false, true},
		{"grev6", "gre6-wan", false, true},
		{"dhcp", "eth1", true, false}, {"dhcpv6", "eth1", false, true}, {"static", "eth1", true, false},
		{"none", "eth1", false, false}, {"", "eth1", false, false},
		{"wireguard", "wan", true, true}, {"qmi", "eth1", true, true},
	}
	for _, tc := range tests {
		n := NetInterface{Name: "wan", Proto: tc.proto, Device: "eth1"}
		if got := n.L3Device(); got != tc.l3 {
			t.Errorf("%q: L3Device %q, want %q", tc.proto, got, tc.l3)
		}
		if v4, v6 := n.Families(); v4 != tc.v4 || v6 != tc.v6 {
			t.Errorf("%q: Families %v %v, want %v %v", tc.proto, v4, v6, tc.v4, tc.v6)
		}
	}
	// Configured addresses: static carries what is set, ppp adds IPv6.
	for _, tc := range []struct {
		proto        string
		ip4, ip6     bool
		want4, want6 bool
	}{
		{"static", false, true, false, true}, {"static", true, true, true, true}, {"pppoe", false, true, true, true},
	} {
		n := NetInterface{Proto: tc.proto, IPv4: tc.ip4, IPv6: tc.ip6}
		if v4, v6 := n.Families(); v4 != tc.want4 || v6 != tc.want6 {
			t.Errorf("%+v: Families %v %v", tc, v4, v6)
		}
	}
}
