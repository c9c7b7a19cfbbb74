package wan

import (
	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/vpn"
	"slices"
	"strings"
)

// words fills Message and Advice from the decided verdict, in plain words
// a person can act on. LuCI translates by code; these are the English text.
func (v *verdict) words() {
	n := &v.nat
	var msg, advice string
	switch n.Code {
	case "":
		msg, advice = v.noIPv4()
	case vpn.NATOK:
		msg = "The WAN address " + v.v4.String() + " on " + n.WANDevice + " is " + v.why +
			": this router is the only NAT between the LAN and the internet."
		if slices.Contains(n.ConfirmedBy, confirmedSTUN) {
			msg += " A STUN server sees the same address."
		}
		advice = "Nothing to change upstream: VPN passthrough depends on this router alone."
	case vpn.NATDouble:
		msg, advice = v.doubleNAT()
	case vpn.NATCGNAT:
		msg = "The WAN address " + v.v4.String() + " on " + n.WANDevice + " is in " + v.why +
			": the ISP translates it once more and shares one public IPv4 address among many customers."
		msg += v.confirmation()
		advice = "Ask the ISP for a public IPv4 address (often available on request or as an option), " +
			"or use IPv6, or a VPN that runs over UDP or TCP and is started from the LAN " +
			"(IPsec with NAT-T, OpenVPN, WireGuard). PPTP and IPsec without NAT-T rarely survive a carrier NAT, " +
			"and no VPN server behind it can be reached from outside."
	case vpn.NATIPv4Sharing:
		msg, advice = v.ipv4Sharing()
	}
	if n.IPv6Global && n.Code != vpn.NATOK {
		advice += " This WAN has a global IPv6 address: a VPN over IPv6 needs no NAT passthrough at all."
	}
	for _, note := range v.notes {
		msg += " " + note
	}
	msg += v.probeTrouble()
	n.Message, n.Advice = msg, strings.TrimSpace(advice)
}

func (v *verdict) noIPv4() (string, string) {
	n := &v.nat
	if n.WANDevice == "" {
		return "No IPv4 default route: the WAN is down or not configured, so nothing can be said about NAT.",
			"Check the WAN connection (cable, upstream box, PPPoE or DHCP settings)."
	}
	return "The WAN device " + n.WANDevice + " has no IPv4 address, so IPv4 cannot reach the internet.",
		"Check the WAN connection; if the line is IPv6-only with MAP-E or DS-Lite, configure that interface."
}

// upstreamName names the box to bridge: model and address when known.
func (v *verdict) upstreamName() string {
	u := v.nat.Upstream
	switch {
	case u.Model != "" && u.Address != "":
		return "the upstream router (" + u.Model + " at " + u.Address + ")"
	case u.Model != "":
		return "the upstream router (" + u.Model + ")"
	case u.Address != "":
		return "the upstream router at " + u.Address
	}
	return "the upstream router (the ISP's modem or router)"
}

func (v *verdict) doubleNAT() (string, string) {
	n := &v.nat
	box := v.upstreamName()
	var msg string
	switch {
	case v.stunSays != "":
		msg = "The WAN address " + v.v4.String() + " on " + n.WANDevice + " looks " + v.why + ", but " +
			v.stunSays + ": another NAT sits upstream, so VPN traffic from the LAN is translated twice (double NAT)."
	case n.Class == ClassLinkLocal:
		msg = "The WAN address " + v.v4.String() + " on " + n.WANDevice + " is " + v.why +
			". If anything reaches the internet, " + box + " translates it (double NAT)."
	default:
		msg = "The WAN address " + v.v4.String() + " on " + n.WANDevice + " is " + v.why + ": " + box +
			" also does NAT, so VPN traffic from the LAN is translated twice (double NAT)."
		msg += v.confirmation()
	}
	advice := "Put " + box + " into bridge mode or IP passthrough, so that this router gets the public address itself. " +
		"If that is not possible, turn on VPN passthrough (PPTP, IPsec) on it as well, " +
		"or use a VPN that crosses NAT well: IPsec with NAT-T, OpenVPN or WireGuard."
	if n.Class == ClassLinkLocal {
		advice = "Check the cable and " + box + ": this router should get an address from it by DHCP or PPPoE. " + advice
	}
	return msg, advice
}

// confirmation says which active check agreed.
func (v *verdict) confirmation() string {
	n := &v.nat
	switch {
	case slices.Contains(n.ConfirmedBy, confirmedSTUN) && n.PublicAddress != "":
		return " Confirmed: a STUN server sees this router as " + n.PublicAddress + "."
	case slices.Contains(n.ConfirmedBy, confirmedIGD) || slices.Contains(n.ConfirmedBy, confirmedNATPMP):
		if n.PublicAddress != "" {
			return " Confirmed: the upstream router reports the external address " + n.PublicAddress + "."
		}
		return " Confirmed by the upstream router's own report."
	}
	return ""
}

func (v *verdict) ipv4Sharing() (string, string) {
	s := v.sharing
	where := s.what
	if s.iface != "" {
		where += " interface '" + s.iface + "'"
	}
	if v.nat.WANDevice != "" {
		where += " on " + v.nat.WANDevice
	}
	var msg string
	if s.class == ClassDSLite {
		msg = "IPv4 is tunnelled over IPv6 to the ISP's carrier-grade NAT (" + where + "): " +
			"the public IPv4 address is shared with other customers, and only TCP, UDP and ICMP get through."
	} else {
		msg = "IPv4 reaches the internet over " + where + ", shared over IPv6: " +
			"the public IPv4 address is shared with other customers, and only TCP, UDP and ICMP on this line's port set get through."
	}
	if v.nat.PublicAddress != "" {
		msg += " The shared public address is " + v.nat.PublicAddress + "."
	}
	advice := "PPTP (GRE) and IPsec without NAT-T (raw ESP) cannot work over this line at all, whatever any router allows. " +
		"What works: IPsec with NAT-T (UDP 500 and 4500, also L2TP/IPsec), OpenVPN, WireGuard or another VPN over UDP or TCP, " +
		"or any VPN over IPv6. If PPTP is a must, a plan with a whole public IPv4 address (PPPoE or a fixed-IP option) is needed."
	return msg, advice
}

// probeTrouble reports active checks that were asked for and failed, so a
// missing confirmation is explained.
func (v *verdict) probeTrouble() string {
	p := v.in.Probes
	var out []string
	if p.STUN != nil && p.STUN.Err != nil {
		slicex.Strings(&out, "STUN: "+p.STUN.Err.Error())
	}
	if p.NATPMP != nil && p.NATPMP.Err != nil {
		slicex.Strings(&out, "NAT-PMP: "+p.NATPMP.Err.Error())
	}
	if p.IGD != nil && p.IGD.Err != nil {
		slicex.Strings(&out, "UPnP: "+p.IGD.Err.Error())
	}
	if len(out) == 0 {
		return ""
	}
	return " (Active checks without an answer: " + strings.Join(out, "; ") + ".)"
}
