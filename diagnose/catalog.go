package diagnose

// The English texts of the findings, once, with {name} placeholders. The
// agent renders them (describe) and build/i18n generates the LuCI page's
// templates and, through them, the translation template (.pot) from them:
// `make i18n`, checked by build/i18n's test. A placeholder is a param of the
// finding or one of the names findingVars adds: who, who_lc, peer, proto,
// what, port, others.

// Variant is one wording of a text: it applies when the finding's param If
// equals Is (with Is empty: is set, not empty and not false), or always
// when If is empty. A text's variants are tried in order.
type Variant struct{ If, Is, Text string }

// Text is a message or advice template, in variants.
type Text []Variant

// Entry is the catalog entry of one finding code. PageAdvice, when set, is
// what the LuCI page says instead of Advice: it points at the page's own
// controls rather than the command line.
type Entry struct {
	Code                        Code
	Message, Advice, PageAdvice Text
}

// Catalog lists every finding code's texts in the precedence order (docs/interface.md#doctor).
// It is plain composite literals (no helper calls) so that the linker lays
// it out as data: a call per text made it ~4.5 KB of init code on mips.
var Catalog = []Entry{
	{Code: CodeFirewallDrops,
		Message:    Text{{Text: "This router's own firewall drops the {what} that {who_lc} sends to {peer}, so the {proto} VPN cannot connect."}},
		Advice:     Text{{Text: "Turn on {proto} passthrough on this router (LuCI: Network → VPN passthrough, or `vpnpass enable {protocol}`). If you manage the firewall yourself, allow {what} from the LAN to the internet ahead of the rule that drops it (`vpnpass status` names it)."}},
		PageAdvice: Text{{Text: "Set {proto} to \"Allow passthrough\" above. If you manage the firewall yourself, allow {what} from the LAN to the internet before the rule named in the details."}}},
	{Code: CodeHelperUnavailable,
		Message:    Text{{Text: "{who} reached the PPTP server {peer}, but this router's system lacks PPTP passthrough support (the kernel's PPTP helper module), so the VPN data (GRE) cannot pass this router's address translation (NAT). Windows reports error 619 or 806."}},
		Advice:     Text{{Text: "Install the package {package} on this router (some builds call it {alt_package}), then turn on PPTP passthrough. Better: switch to a VPN that works through NAT (IKEv2/IPsec, OpenVPN or WireGuard); PPTP is not secure."}},
		PageAdvice: Text{{Text: "Install the package {package} on this router (some builds call it {alt_package}), then allow PPTP passthrough. Better: switch to a VPN that works through NAT (IKEv2/IPsec, OpenVPN or WireGuard); PPTP is not secure."}}},
	{Code: CodePPTPNoHelper,
		Message:    Text{{Text: "{who} reached the PPTP server {peer} (TCP 1723 answered), but the VPN data (GRE) does not come back: this router does not follow the PPTP connection, so it cannot tell which device the server's GRE belongs to. Windows reports error 619 or 806."}},
		Advice:     Text{{Text: "Turn on PPTP passthrough on this router (LuCI: Network → VPN passthrough, or `vpnpass enable pptp`), then connect the VPN again."}},
		PageAdvice: Text{{Text: "Set PPTP to \"Allow passthrough\" above, then connect the VPN again."}}},
	{Code: CodeAHThroughNAT,
		Message: Text{{Text: "{who} uses IPsec AH with {peer}. AH protects the IP addresses, which this router's address translation (NAT) must change, so AH can never work through NAT."}},
		Advice:  Text{{Text: "Ask the VPN server's administrator for ESP with NAT-T instead of AH, or connect over IPv6, which needs no NAT."}}},
	{Code: CodeIKEUnanswered,
		Message: Text{{Text: "{who} sent an IPsec key exchange (IKE, {port}) to {peer} but nothing came back. The server is down or unreachable, or something between this router and the server blocks {port}."}},
		Advice:  Text{{Text: "Check the server address in the VPN settings. If it is right, ask the VPN server's administrator whether the server is running, and ask whoever runs the network beyond this router (an upstream router, your company network or your internet provider) to allow UDP 500 and UDP 4500 to {peer}."}}},
	{Code: CodeNATTBlocked,
		Message: Text{{Text: "{who} sent IPsec NAT-T (UDP 4500) to {peer} but nothing came back, although the server answered on UDP 500. Something between this router and the server blocks UDP 4500."}},
		Advice:  Text{{Text: "This router lets UDP 4500 through. Ask whoever runs the network beyond it (an upstream router, your company network or your internet provider) to allow UDP 4500 to {peer}, and ask the VPN server's administrator whether the server accepts UDP 4500."}}},
	{Code: CodeESPBlocked,
		Message: Text{{Text: "{who} sent IPsec data (ESP, IP protocol 50) to {peer} but nothing came back. Something between this router and the server blocks ESP."}},
		Advice:  Text{{Text: "Turn on NAT-T (also called NAT traversal or UDP encapsulation) on the VPN client and the server, so the data travels in UDP 4500; or ask the network owner or internet provider to allow ESP (IP protocol 50) to {peer}."}}},
	{Code: CodeGREBlocked,
		Message: Text{{Text: "{who} reached the PPTP server {peer} (TCP 1723 answered) and this router follows the connection, but the VPN data (GRE, IP protocol 47) never came back. Something beyond this router blocks GRE, often an upstream router without PPTP passthrough. Windows reports error 619 or 806."}},
		Advice:  Text{{Text: "Turn on PPTP or VPN passthrough on the upstream router or modem (or put it into bridge mode), or ask your internet provider whether GRE is blocked. A VPN that works through NAT (IKEv2/IPsec, OpenVPN, WireGuard) avoids the problem."}}},
	{Code: CodeL2TPUnanswered,
		Message: Text{{Text: "{who} sent L2TP (UDP 1701) to {peer} but nothing came back. The server is down or unreachable, or something between this router and the server blocks UDP 1701."}},
		Advice:  Text{{Text: "Check the server address and the VPN type: most servers expect L2TP/IPsec (with a pre-shared key or certificate), not plain L2TP. If they are right, ask the server's administrator whether it is running."}}},
	{Code: CodePPTPUnanswered,
		Message: Text{{Text: "{who} tried to open a PPTP connection (TCP 1723) to {peer} but got no answer. The server is down or unreachable, or something between this router and the server blocks TCP 1723."}},
		Advice:  Text{{Text: "Check the server address in the VPN settings, then ask the VPN server's administrator whether PPTP is still offered (many servers dropped it) and ask the network owner or provider to allow TCP 1723."}}},
	{Code: CodeOpenVPNUnanswered,
		Message: Text{{Text: "{who} sent OpenVPN ({port}) to {peer} but nothing came back. The server is down or unreachable, or something beyond this router blocks {port}."}},
		Advice:  Text{{Text: "Check the server address and port in the OpenVPN profile. If they are right, ask the server's administrator whether it is running, or try the server's TCP 443 profile if it offers one."}}},
	{Code: CodeWireGuardUnanswered,
		Message: Text{{Text: "{who} sent WireGuard ({port}) to {peer} but nothing came back. The server ignores unknown keys silently, so the keys may be wrong, the server may be down, or something beyond this router blocks the port."}},
		Advice:  Text{{Text: "Check the endpoint address, port and both public keys in the WireGuard configuration; then ask the server's administrator whether the peer is configured."}}},
	{Code: CodeInboundNotForwarded,
		Message: Text{{If: "forwarded_to", Text: "A VPN client ({proto}) at {peer} connected to this router's internet address {wan_address}, and this router forwards {what} to {forwarded_to}, but nothing on the LAN answered."},
			{Text: "A VPN client ({proto}) at {peer} connected to this router's internet address {wan_address}, but this router forwards {what} to no device on the LAN, so the connection ends at the router."}},
		Advice: Text{{If: "forwarded_to", Text: "Check that the VPN server {forwarded_to} is running and that its own firewall accepts {what}. If the server has another address, correct the port forward (LuCI: Network → Firewall → Port Forwards)."},
			{If: "server", Text: "Forward {what} from the wan zone to the VPN server {server} (LuCI: Network → Firewall → Port Forwards, one rule per port)."},
			{Text: "Forward {what} from the wan zone to the VPN server's LAN address (LuCI: Network → Firewall → Port Forwards, one rule per port), and name the server in /etc/config/vpnpass (config server) so vpnpass can check the forward."}}},
	{Code: CodeInboundBehindDoubleNAT,
		Message: Text{{If: "nat", Is: "cgnat", Text: "This router's internet address {wan_address} is in the carrier-grade NAT range (100.64.0.0/10): your internet provider translates addresses again, so VPN clients on the internet cannot reach the {proto} server {server} on your LAN."},
			{Text: "The {proto} server {server} is behind this router, and another router or modem in front of this one translates addresses again (double NAT): VPN clients on the internet reach that device first, and none of their {what} has arrived here."}},
		Advice: Text{{If: "nat", Is: "cgnat", Text: "Ask your internet provider for a public IPv4 address (or its port-forwarding option), or let the VPN clients connect over IPv6."},
			{If: "upstream", Text: "On the router or modem in front of this one ({upstream}), forward {what} to this router's address {wan_address} (its DMZ or exposed-host setting also works), or put that device into bridge mode so this router gets the public address. This router must forward the same ports to {server}."},
			{Text: "On the router or modem in front of this one, forward {what} to this router's address {wan_address} (its DMZ or exposed-host setting also works), or put that device into bridge mode so this router gets the public address. This router must forward the same ports to {server}."}}},
	{Code: CodeIKEAuthFailed,
		Message: Text{{Text: "{who} and the IPsec server {peer} completed the first part of the key exchange (the server answered on {port}), but the connection ended before any VPN data passed. The network path works: the server most likely refused the login."}},
		Advice:  Text{{Text: "Check the user name, password, pre-shared key or certificate and the VPN type in the client's settings, or ask the VPN server's administrator to look in the server's log for the reason it refused the connection."}}},
	{Code: CodeNATTNotNegotiated,
		Message: Text{{Text: "{who} exchanged IPsec keys with {peer} on UDP 500, but they never switched to UDP 4500 (NAT-T), although this router translates addresses (NAT). IPsec data without NAT-T (raw ESP) does not cross NAT reliably."}},
		Advice:  Text{{Text: "Turn on NAT-T (also called NAT traversal or UDP encapsulation) on the VPN client, and ask the VPN server's administrator to allow it on the server."}}},
	{Code: CodeL2TPWithoutIPsec,
		Message: Text{{Text: "{who} sent L2TP (UDP 1701) to {peer} without IPsec first, and the connection never carried data. Most servers refuse L2TP without IPsec."}},
		Advice:  Text{{Text: "Set the VPN type to \"L2TP/IPsec\" and enter the pre-shared key or certificate the server expects."}}},
	{Code: CodeESPMultipleClients,
		Message: Text{{Text: "{who} sends IPsec data without NAT-T (raw ESP) to {peer}, and so does {others}. Behind one address translation (NAT) only one device at a time can do that; this one gets no answer."}},
		Advice:  Text{{Text: "Turn on NAT-T (NAT traversal, UDP encapsulation) on the VPN clients and the server, so every device's data travels in its own UDP 4500 flow; until then, connect one device at a time."}}},
	{Code: CodeDoubleNAT,
		Message: Text{{If: "nat", Is: "cgnat", Text: "This router's internet address {wan_address} is in the carrier-grade NAT range (100.64.0.0/10): your internet provider translates addresses again, so the VPN crosses two NATs."},
			// Not "private": the address may be reserved or link-local, or
			// public while STUN sees another one.
			{Text: "This router's internet-side address {wan_address} is not the one the internet sees: another router (or modem) in front of this one translates addresses again (double NAT), so that device needs VPN passthrough too."}},
		Advice: Text{{If: "nat", Is: "cgnat", Text: "Use NAT-T (UDP 4500), OpenVPN or WireGuard, which cross carrier-grade NAT; for PPTP or raw ESP ask your internet provider for a public IPv4 address."},
			{If: "upstream", Text: "Turn on VPN passthrough ({proto}) on the router or modem in front of this one ({upstream}), or put that device into bridge mode so this router gets a public address."},
			{Text: "Turn on VPN passthrough ({proto}) on the router or modem in front of this one, or put that device into bridge mode so this router gets a public address."}}},
	{Code: CodeIPv4Sharing,
		Message: Text{{Text: "This internet line shares its IPv4 address with other customers (MAP-E or DS-Lite): only TCP, UDP and ping on a limited range of ports get through, so PPTP (GRE) and IPsec without NAT-T (raw ESP) cannot work at all."}},
		Advice:  Text{{Text: "Use a VPN over UDP or TCP: IKEv2/IPsec with NAT-T, OpenVPN or WireGuard. For PPTP or raw ESP, ask your internet provider for a fixed IPv4 address option."}}},
	{Code: CodeOK,
		Message: Text{{If: "natt", Text: "The {proto} VPN from {who_lc} to {peer} works: the server answers and data flows both ways (through NAT-T, UDP 4500)."}, {Text: "The {proto} VPN from {who_lc} to {peer} works: the server answers and data flows both ways."}},
		// While live the advice says what proves it and that a later
		// failure replaces the finding (docs/design.md#the-doctor).
		Advice: Text{{If: "live", Text: "Nothing to do. The connection is in use right now ({packets_out} packets out, {packets_in} in so far); if it fails later, the cause replaces this message."},
			{Text: "Nothing to do."}}},
}

// MatchText says what a match string is, for people who never heard of it
// (the "what" of firewall-drops), in display order.
var MatchText = []struct{ Match, Text string }{
	{"udp/500", "IPsec key exchange (IKE, UDP 500)"},
	{"udp/4500", "IPsec NAT-T (UDP 4500)"},
	{"esp", "IPsec data (ESP, IP protocol 50)"},
	{"ah", "IPsec AH (IP protocol 51)"},
	{"gre", "PPTP data (GRE, IP protocol 47)"},
	{"tcp/1723", "PPTP control connection (TCP 1723)"},
	{"udp/1701", "L2TP (UDP 1701)"},
	{"udp/1194", "OpenVPN (UDP 1194)"},
	{"tcp/1194", "OpenVPN (TCP 1194)"},
	{"udp/51820", "WireGuard (UDP 51820)"},
}

// ProbeOutcome says what each outcome of a probe from the router means
// (agent/cli's probe and the LuCI page), in display order.
var ProbeOutcome = []struct{ Outcome, Text string }{
	{"answered", "the server (or something in front of it) speaks the protocol."},
	{"refused", "an ICMP error or TCP reset came back."},
	{"silent", "nothing came back: the server is down or something between here and there drops it."},
}
