package diagnose

import (
	"fmt"
	"github.com/vpnpass/vpnpass/vpn"
	"strings"
)

// plainMatch says what a match string is, for people who never heard of it.
var plainMatch = map[string]string{
	"udp/500":   "IPsec key exchange (IKE, UDP 500)",
	"udp/4500":  "IPsec NAT-T (UDP 4500)",
	"esp":       "IPsec data (ESP, IP protocol 50)",
	"ah":        "IPsec AH (IP protocol 51)",
	"gre":       "PPTP data (GRE, IP protocol 47)",
	"tcp/1723":  "PPTP control connection (TCP 1723)",
	"udp/1701":  "L2TP (UDP 1701)",
	"udp/1194":  "OpenVPN (UDP 1194)",
	"tcp/1194":  "OpenVPN (TCP 1194)",
	"udp/51820": "WireGuard (UDP 51820)",
}

func describeMatches(ms []string) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = plainMatch[m]
		if parts[i] == "" {
			parts[i] = m
		}
	}
	return strings.Join(parts, " and ")
}

// describe renders message and advice of a code from its params. who is
// "Your device 192.168.1.10" or "This router (…)"; every value used here is
// also in params so LuCI can build its own translation from the code.
func describe(code Code, p map[string]any, who string) (string, string) {
	peer := fmt.Sprint(p["peer"])
	proto := vpn.Protocol(fmt.Sprint(p["protocol"])).Name()
	t, ok := texts[code]
	if !ok {
		return string(code), ""
	}
	return t.message(who, peer, proto, p), t.advice(who, peer, proto, p)
}

type text struct {
	message func(who, peer, proto string, p map[string]any) string
	advice  func(who, peer, proto string, p map[string]any) string
}

func fixed(s string) func(who, peer, proto string, p map[string]any) string {
	return func(string, string, string, map[string]any) string { return s }
}

func portOf(p map[string]any) string {
	return fmt.Sprintf("%s %v", strings.ToUpper(fmt.Sprint(p["transport"])), p["port"])
}

var texts = map[Code]text{
	CodeFirewallDrops: {
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("This router's own firewall drops the %s that %s sends to %s, so the %s VPN cannot connect.",
				p["what"], lowerFirst(who), peer, proto)
		},
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("Turn on %s passthrough on this router (LuCI: Network → VPN passthrough, or `vpnpass enable %s`). "+
				"If you manage the firewall yourself, allow %s from the LAN to the internet ahead of the rule that drops it (`vpnpass status` names it).",
				proto, p["protocol"], p["what"])
		},
	},
	CodeHelperUnavailable: {
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("%s reached the PPTP server %s, but this router's system lacks PPTP passthrough support (the kernel's PPTP helper module), so the VPN data (GRE) cannot pass this router's address translation (NAT). Windows reports error 619 or 806.", who, peer)
		},
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("Install the package %s on this router (some builds call it %s), then turn on PPTP passthrough. Better: switch to a VPN that works through NAT (IKEv2/IPsec, OpenVPN or WireGuard); PPTP is not secure.", p["package"], p["alt_package"])
		},
	},
	CodePPTPNoHelper: {
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("%s reached the PPTP server %s (TCP 1723 answered), but the VPN data (GRE) does not come back: this router does not follow the PPTP connection, so it cannot tell which device the server's GRE belongs to. Windows reports error 619 or 806.", who, peer)
		},
		fixed("Turn on PPTP passthrough on this router (LuCI: Network → VPN passthrough, or `vpnpass enable pptp`), then connect the VPN again."),
	},
	CodeAHThroughNAT: {
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("%s uses IPsec AH with %s. AH protects the IP addresses, which this router's address translation (NAT) must change, so AH can never work through NAT.", who, peer)
		},
		fixed("Ask the VPN server's administrator for ESP with NAT-T instead of AH, or connect over IPv6, which needs no NAT."),
	},
	CodeIKEUnanswered: {
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("%s sent an IPsec key exchange (IKE, %s) to %s but nothing came back. The server is down or unreachable, or something between this router and the server blocks %s.", who, portOf(p), peer, portOf(p))
		},
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("Check the server address in the VPN settings. If it is right, ask the VPN server's administrator whether the server is running, and ask whoever runs the network beyond this router (an upstream router, your company network or your internet provider) to allow UDP 500 and UDP 4500 to %s.", peer)
		},
	},
	CodeNATTBlocked: {
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("%s sent IPsec NAT-T (UDP 4500) to %s but nothing came back, although the server answered on UDP 500. Something between this router and the server blocks UDP 4500.", who, peer)
		},
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("This router lets UDP 4500 through. Ask whoever runs the network beyond it (an upstream router, your company network or your internet provider) to allow UDP 4500 to %s, and ask the VPN server's administrator whether the server accepts UDP 4500.", peer)
		},
	},
	CodeESPBlocked: {
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("%s sent IPsec data (ESP, IP protocol 50) to %s but nothing came back. Something between this router and the server blocks ESP.", who, peer)
		},
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("Turn on NAT-T (also called NAT traversal or UDP encapsulation) on the VPN client and the server, so the data travels in UDP 4500; or ask the network owner or internet provider to allow ESP (IP protocol 50) to %s.", peer)
		},
	},
	CodeGREBlocked: {
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("%s reached the PPTP server %s (TCP 1723 answered) and this router follows the connection, but the VPN data (GRE, IP protocol 47) never came back. Something beyond this router blocks GRE, often an upstream router without PPTP passthrough. Windows reports error 619 or 806.", who, peer)
		},
		fixed("Turn on PPTP or VPN passthrough on the upstream router or modem (or put it into bridge mode), or ask your internet provider whether GRE is blocked. A VPN that works through NAT (IKEv2/IPsec, OpenVPN, WireGuard) avoids the problem."),
	},
	CodeL2TPUnanswered: {
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("%s sent L2TP (UDP 1701) to %s but nothing came back. The server is down or unreachable, or something between this router and the server blocks UDP 1701.", who, peer)
		},
		fixed("Check the server address and the VPN type: most servers expect L2TP/IPsec (with a pre-shared key or certificate), not plain L2TP. If they are right, ask the server's administrator whether it is running."),
	},
	CodePPTPUnanswered: {
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("%s tried to open a PPTP connection (TCP 1723) to %s but got no answer. The server is down or unreachable, or something between this router and the server blocks TCP 1723.", who, peer)
		},
		fixed("Check the server address in the VPN settings, then ask the VPN server's administrator whether PPTP is still offered (many servers dropped it) and ask the network owner or provider to allow TCP 1723."),
	},
	CodeOpenVPNUnanswered: {
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("%s sent OpenVPN (%s) to %s but nothing came back. The server is down or unreachable, or something beyond this router blocks %s.", who, portOf(p), peer, portOf(p))
		},
		fixed("Check the server address and port in the OpenVPN profile. If they are right, ask the server's administrator whether it is running, or try the server's TCP 443 profile if it offers one."),
	},
	CodeWireGuardUnanswered: {
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("%s sent WireGuard (UDP %v) to %s but nothing came back. The server ignores unknown keys silently, so the keys may be wrong, the server may be down, or something beyond this router blocks the port.", who, p["port"], peer)
		},
		fixed("Check the endpoint address, port and both public keys in the WireGuard configuration; then ask the server's administrator whether the peer is configured."),
	},
	CodeIKEAuthFailed: {
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("%s and the IPsec server %s completed the first part of the key exchange (the server answered on UDP %v), but the connection ended before any VPN data passed. The network path works: the server most likely refused the login.", who, peer, p["port"])
		},
		fixed("Check the user name, password, pre-shared key or certificate and the VPN type in the client's settings, or ask the VPN server's administrator to look in the server's log for the reason it refused the connection."),
	},
	CodeNATTNotNegotiated: {
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("%s exchanged IPsec keys with %s on UDP 500, but they never switched to UDP 4500 (NAT-T), although this router translates addresses (NAT). IPsec data without NAT-T (raw ESP) does not cross NAT reliably.", who, peer)
		},
		fixed("Turn on NAT-T (also called NAT traversal or UDP encapsulation) on the VPN client, and ask the VPN server's administrator to allow it on the server."),
	},
	CodeL2TPWithoutIPsec: {
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("%s sent L2TP (UDP 1701) to %s without IPsec first, and the connection never carried data. Most servers refuse L2TP without IPsec.", who, peer)
		},
		fixed("Set the VPN type to \"L2TP/IPsec\" and enter the pre-shared key or certificate the server expects."),
	},
	CodeESPMultipleClients: {
		func(who, peer, proto string, p map[string]any) string {
			return fmt.Sprintf("%s sends IPsec data without NAT-T (raw ESP) to %s, and so does %s. Behind one address translation (NAT) only one device at a time can do that; this one gets no answer.", who, peer, joinAny(p["others"]))
		},
		fixed("Turn on NAT-T (NAT traversal, UDP encapsulation) on the VPN clients and the server, so every device's data travels in its own UDP 4500 flow; until then, connect one device at a time."),
	},
	CodeDoubleNAT: {
		func(who, peer, proto string, p map[string]any) string {
			if p["nat"] == vpn.NATCGNAT {
				return fmt.Sprintf("This router's internet address %v is in the carrier-grade NAT range (100.64.0.0/10): your internet provider translates addresses again, so the VPN crosses two NATs.", p["wan_address"])
			}
			// Not "private": the address may be reserved or link-local, or
			// public while STUN sees another one.
			return fmt.Sprintf("This router's internet-side address %v is not the one the internet sees: another router (or modem) in front of this one translates addresses again (double NAT), so that device needs VPN passthrough too.", p["wan_address"])
		},
		func(who, peer, proto string, p map[string]any) string {
			if p["nat"] == vpn.NATCGNAT {
				return "Use NAT-T (UDP 4500), OpenVPN or WireGuard, which cross carrier-grade NAT; for PPTP or raw ESP ask your internet provider for a public IPv4 address."
			}
			if up := fmt.Sprint(p["upstream"]); p["upstream"] != nil && up != "" {
				return fmt.Sprintf("Turn on VPN passthrough (%s) on the router or modem in front of this one (%s), or put that device into bridge mode so this router gets a public address.", proto, up)
			}
			return fmt.Sprintf("Turn on VPN passthrough (%s) on the router or modem in front of this one, or put that device into bridge mode so this router gets a public address.", proto)
		},
	},
	CodeIPv4Sharing: {
		fixed("This internet line shares its IPv4 address with other customers (MAP-E or DS-Lite): only TCP, UDP and ping on a limited range of ports get through, so PPTP (GRE) and IPsec without NAT-T (raw ESP) cannot work at all."),
		fixed("Use a VPN over UDP or TCP: IKEv2/IPsec with NAT-T, OpenVPN or WireGuard. For PPTP or raw ESP, ask your internet provider for a fixed IPv4 address option."),
	},
	CodeOK: {
		func(who, peer, proto string, p map[string]any) string {
			how := ""
			if p["natt"] == true {
				how = " (through NAT-T, UDP 4500)"
			}
			return fmt.Sprintf("The %s VPN from %s to %s works: the server answers and data flows both ways%s.", proto, lowerFirst(who), peer, how)
		},
		fixed("Nothing to do."),
	},
}

func lowerFirst(s string) string {
	if strings.HasPrefix(s, "Your ") || strings.HasPrefix(s, "This ") {
		return strings.ToLower(s[:1]) + s[1:]
	}
	return s
}

func joinAny(v any) string {
	if ss, ok := v.([]string); ok {
		return strings.Join(ss, ", ")
	}
	return fmt.Sprint(v)
}
