package diagnose

import (
	"testing"

	"github.com/vpnpass/vpnpass/vpn"
)

// TestDescribeVariants: the catalog's conditional wordings pick as the
// hand-written Go texts did (the golden findings cover the plain ones).
func TestDescribeVariants(t *testing.T) {
	base := func(kv ...any) map[string]any {
		p := map[string]any{"protocol": "ipsec", "peer": "203.0.113.10", "wan_address": "100.64.1.2"}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i].(string)] = kv[i+1]
		}
		return p
	}
	tests := []struct {
		name          string
		code          Code
		p             map[string]any
		message, advi string
	}{
		{"cgnat", CodeDoubleNAT, base("nat", vpn.NATCGNAT, "upstream", ""),
			"This router's internet address 100.64.1.2 is in the carrier-grade NAT range (100.64.0.0/10): your internet provider translates addresses again, so the VPN crosses two NATs.",
			"Use NAT-T (UDP 4500), OpenVPN or WireGuard, which cross carrier-grade NAT; for PPTP or raw ESP ask your internet provider for a public IPv4 address."},
		{"double with upstream", CodeDoubleNAT, base("nat", vpn.NATDouble, "upstream", "FRITZ!Box 7590"),
			"This router's internet-side address 100.64.1.2 is not the one the internet sees: another router (or modem) in front of this one translates addresses again (double NAT), so that device needs VPN passthrough too.",
			"Turn on VPN passthrough (IPsec) on the router or modem in front of this one (FRITZ!Box 7590), or put that device into bridge mode so this router gets a public address."},
		{"double without upstream", CodeDoubleNAT, base("nat", vpn.NATDouble, "upstream", ""), "",
			"Turn on VPN passthrough (IPsec) on the router or modem in front of this one, or put that device into bridge mode so this router gets a public address."},
		{"ok through natt", CodeOK, base("natt", true),
			"The IPsec VPN from your device 192.168.1.10 to 203.0.113.10 works: the server answers and data flows both ways (through NAT-T, UDP 4500).", "Nothing to do."},
		{"firewall drops", CodeFirewallDrops, base("matches", []string{"udp/500", "esp"}), "",
			"Turn on IPsec passthrough on this router (LuCI: Network → VPN passthrough, or `vpnpass enable ipsec`). If you manage the firewall yourself, allow IPsec key exchange (IKE, UDP 500) and IPsec data (ESP, IP protocol 50) from the LAN to the internet ahead of the rule that drops it (`vpnpass status` names it)."},
		{"unknown code", "no-such-code", base(), "no-such-code", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg, adv := describe(tc.code, tc.p, "Your device 192.168.1.10")
			if tc.message != "" && msg != tc.message {
				t.Errorf("message\n got %q\nwant %q", msg, tc.message)
			}
			if adv != tc.advi {
				t.Errorf("advice\n got %q\nwant %q", adv, tc.advi)
			}
		})
	}
}
