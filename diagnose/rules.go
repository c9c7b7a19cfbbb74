package diagnose

import (
	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"

	"github.com/vpnpass/vpnpass/helpers"
)

// ruleFirewallDrops: this router drops the footprint itself. Two proofs: the
// observer counted packets of an element for which conntrack never confirmed
// an entry (the filter dropped them before confirmation), or inspection says
// the firewall drops the element the session needed next and it never
// appeared in conntrack.
func ruleFirewallDrops(f facts) (cand candidate, ok bool) {
	var ev []Evidence
	var matches []string
	for _, o := range f.s.Observed {
		if o.Direction != vpn.DirOut || o.Packets == 0 || len(f.s.FlowsOf(o.Element.Kind())) > 0 {
			continue
		}
		if o.Element == vpn.ObsESP && f.espClashed() {
			continue // the NAT refused it, not the filter: esp-multiple-clients
		}
		observedEvidence(addEvidence(&ev), o, f.host, f.peer)
		matches = addOnce(matches, o.Element.Kind().Match())
	}
	for _, d := range f.dropsOfSession() {
		k := vpn.KindOf(d.Element.L4, d.Element.Port)
		if len(f.s.FlowsOf(k)) > 0 || !(contains(matches, d.Element.Match()) || f.expects(k)) {
			continue
		}
		ruleEvidence(addEvidence(&ev), &d)
		matches = addOnce(matches, d.Element.Match())
	}
	if len(ev) == 0 {
		return cand, false
	}
	return candidate{CodeFirewallDrops, vpn.SeverityError, newParams("matches", matches, "what", describeMatches(matches)), ev}, true
}

// dropsOfSession returns the inspection's drops for the session's protocol
// and address family, as the firewall treats the session's own host.
func (f facts) dropsOfSession() []DropRule {
	fam := vpn.IPv6
	if f.v4 {
		fam = vpn.IPv4
	}
	var out []DropRule
	for _, d := range f.ctx.Drops {
		if d.Element.Family != fam || vpn.KindOf(d.Element.L4, d.Element.Port).Protocol() != f.s.Key.Protocol {
			continue
		}
		if d.Verdict, d.DecidedBy = d.forHost(f.s.Key.Host, f.s.Key.Peer); d.Verdict == netfilter.Drop || d.Verdict == netfilter.Reject {
			out = append(out, d)
		}
	}
	return out
}

// expects reports whether the session's progress says the element of kind k
// should have come next: NAT-T after answered IKE behind NAT, ESP after
// answered IKE without NAT, GRE after an answered PPTP control connection.
func (f facts) expects(k vpn.Kind) bool {
	switch k {
	case vpn.KindNATT:
		return anyAnswered(f.ike) && f.nat
	case vpn.KindESP:
		return anyAnswered(f.ike) && !f.nat && len(f.natt) == 0
	case vpn.KindGRE:
		return anyAnswered(f.ctl) && f.s.Key.Protocol == vpn.PPTP
	}
	return false
}

// pptpStuck: the PPTP control connection is up, the router NATs, and GRE has
// not come back (none sent yet after a quiet spell, or sent and unanswered,
// or the server's GRE came back to the router itself).
func (f facts) pptpStuck() bool {
	if f.s.Key.Protocol != vpn.PPTP || !anyAnswered(f.ctl) || !f.nat || anyAnswered(f.gre) {
		return false
	}
	return len(f.s.Inbound) > 0 || f.unanswered(f.gre) || (len(f.gre) == 0 && f.quietOrEnd)
}

// ruleHelperUnavailable: PPTP through NAT needs the kernel's PPTP helper and
// this kernel has none.
func ruleHelperUnavailable(f facts) (cand candidate, ok bool) {
	if f.ctx.PPTPHelper != helpers.Absent || !f.pptpStuck() {
		return cand, false
	}
	params := newParams("helper", "pptp", "package", helpers.PackagePPTP, "alt_package", "kmod-nf-nathelper-pptp")
	return candidate{CodeHelperUnavailable, vpn.SeverityError, params, flowsEvidence(f.ctl, f.gre, f.s.Inbound)}, true
}

// rulePPTPNoHelper: the control connection carries no PPTP helper, so the
// NAT cannot map the server's GRE back to the LAN host.
func rulePPTPNoHelper(f facts) (cand candidate, ok bool) {
	if !f.pptpStuck() {
		return cand, false
	}
	for _, c := range f.ctl {
		if c.Flow.Helper != "" {
			return cand, false
		}
	}
	params := newParams("helper_state", string(f.ctx.PPTPHelper), "assigned", f.ctx.PPTPAssigned)
	return candidate{CodePPTPNoHelper, vpn.SeverityError, params, flowsEvidence(f.ctl, f.gre, f.s.Inbound)}, true
}

// ruleAHThroughNAT: AH authenticates the addresses NAT rewrites.
func ruleAHThroughNAT(f facts) (cand candidate, ok bool) {
	if len(f.ah) == 0 || !f.nat {
		return cand, false
	}
	return candidate{CodeAHThroughNAT, vpn.SeverityError, nil, flowsEvidence(f.ah)}, true
}

// unansweredCodes is the code of each protocol's unanswered first request
// (a table: a map literal costs init code, a string switch more code).
var unansweredCodes = []struct {
	p    vpn.Protocol
	code Code
}{
	{vpn.IPsec, CodeIKEUnanswered},
	{vpn.L2TP, CodeL2TPUnanswered},
	{vpn.PPTP, CodePPTPUnanswered},
	{vpn.OpenVPN, CodeOpenVPNUnanswered},
	{vpn.WireGuard, CodeWireGuardUnanswered},
}

func unansweredCode(p vpn.Protocol) Code {
	for _, u := range unansweredCodes {
		if u.p == p {
			return u.code
		}
	}
	return ""
}

// ruleControlUnanswered: the first request of the protocol got no reply.
func ruleControlUnanswered(f facts) (cand candidate, ok bool) {
	if !f.unanswered(f.ctl) || (f.s.Key.Protocol == vpn.IPsec && anyAnswered(f.natt)) {
		return cand, false
	}
	c := f.ctl[0]
	params := newParams("port", c.Flow.Orig.DstPort, "transport", vpn.L4Name(c.Flow.L4))
	return candidate{unansweredCode(f.s.Key.Protocol), vpn.SeverityError, params, flowsEvidence(f.ctl)}, true
}

// ruleNATTBlocked: IKE answered on UDP 500, the switch to UDP 4500 was never
// answered: something beyond this router blocks UDP 4500.
func ruleNATTBlocked(f facts) (cand candidate, ok bool) {
	if !anyAnswered(f.ike) || !f.unanswered(f.natt) {
		return cand, false
	}
	params := newParams("port", vpn.PortNATT, "transport", "udp")
	return candidate{CodeNATTBlocked, vpn.SeverityError, params, flowsEvidence(f.natt, f.ike)}, true
}

// espClash reports whether another LAN host's raw ESP to the same server
// is answered: then this host's silence is the NAT clash, not a block.
func (f facts) espClash() bool {
	for _, c := range f.ctx.ESPClients[f.s.Key.Peer] {
		if c.Host != f.s.Key.Host && c.Answered {
			return true
		}
	}
	return false
}

// ruleESPBlocked: raw ESP sent, never answered, and not explained by another
// host holding the server's ESP mapping on this NAT.
func ruleESPBlocked(f facts) (cand candidate, ok bool) {
	if !f.unanswered(f.esp) || (f.nat && f.espClash()) {
		return cand, false
	}
	return candidate{CodeESPBlocked, vpn.SeverityError, nil, flowsEvidence(f.esp, f.ike)}, true
}

// ruleGREBlocked: the control connection is up and has its helper (or no NAT
// needs one), GRE was sent and never answered: blocked beyond this router.
func ruleGREBlocked(f facts) (cand candidate, ok bool) {
	if f.s.Key.Protocol != vpn.PPTP || !anyAnswered(f.ctl) || !f.unanswered(f.gre) {
		return cand, false
	}
	helped := false
	for _, c := range f.ctl {
		helped = helped || c.Flow.Helper != ""
	}
	if f.nat && !helped {
		return cand, false // pptp-no-helper explains it
	}
	return candidate{CodeGREBlocked, vpn.SeverityError, nil, flowsEvidence(f.ctl, f.gre)}, true
}

// ruleIKEAuthFailed: IKE was answered where the exchange finishes (UDP 4500
// after the NAT-T switch, UDP 500 without NAT) and the session ended or fell
// quiet before any data: the path works, the login did not.
func ruleIKEAuthFailed(f facts) (cand candidate, ok bool) {
	if f.s.Key.Protocol != vpn.IPsec || !f.quietOrEnd || f.dataAnswered() || f.fastBlind() {
		return cand, false
	}
	switch {
	case len(f.natt) > 0 && anyAnswered(f.natt) && (len(f.ike) == 0 || anyAnswered(f.ike)):
		return candidate{CodeIKEAuthFailed, vpn.SeverityError, newParams("port", vpn.PortNATT), flowsEvidence(f.ike, f.natt)}, true
	case len(f.natt) == 0 && !f.nat && anyAnswered(f.ike) && f.s.ObservedOf(vpn.ObsIKE4500, vpn.DirOut) == nil:
		return candidate{CodeIKEAuthFailed, vpn.SeverityError, newParams("port", vpn.PortIKE), flowsEvidence(f.ike)}, true
	}
	return cand, false
}

// ruleNATTNotNegotiated: IKE answered on UDP 500 behind this router's NAT but
// never moved to UDP 4500. Raw ESP may work for one host; it is fragile.
func ruleNATTNotNegotiated(f facts) (cand candidate, ok bool) {
	if f.s.Key.Protocol != vpn.IPsec || !f.nat || !anyAnswered(f.ike) || len(f.natt) > 0 || !f.quietOrEnd {
		return cand, false
	}
	if f.s.ObservedOf(vpn.ObsIKE4500, vpn.DirOut) != nil || f.s.ObservedOf(vpn.ObsESPInUDP, vpn.DirOut) != nil {
		return cand, false // 4500 was tried: firewall-drops explains it
	}
	sev := vpn.SeverityError
	if anyAnswered(f.esp) {
		sev = vpn.SeverityWarning
	}
	return candidate{CodeNATTNotNegotiated, sev, newParams("raw_esp", len(f.esp) > 0), flowsEvidence(f.ike, f.esp)}, true
}

// ruleL2TPWithoutIPsec: L2TP in the clear with no IPsec to the same server,
// and it never carried data: most servers refuse L2TP without IPsec.
func ruleL2TPWithoutIPsec(f facts) (cand candidate, ok bool) {
	if f.s.Key.Protocol != vpn.L2TP || len(f.ctl) == 0 || !isZero(&f.s.DataAnswered) || !f.quietOrEnd {
		return cand, false
	}
	if f.ctx.IPsecPairs[[2]netip.Addr{f.s.Key.Host, f.s.Key.Peer}] {
		return cand, false
	}
	return candidate{CodeL2TPWithoutIPsec, vpn.SeverityError, nil, flowsEvidence(f.ctl)}, true
}

// espClashed reports whether this host's raw ESP left the LAN (the observer
// counted it) without ever getting a conntrack entry while another LAN host
// holds the NAT's one ESP mapping to the same server: the kernel dropped the
// clashing packets before confirmation, as a filter drop would look.
func (f facts) espClashed() bool {
	if len(f.esp) > 0 {
		return false
	}
	if o := f.s.ObservedOf(vpn.ObsESP, vpn.DirOut); o == nil || o.Packets == 0 {
		return false
	}
	for _, c := range f.ctx.ESPClients[f.s.Key.Peer] {
		if c.Host != f.s.Key.Host && c.Confirmed && (c.NATed || f.nat) {
			return true
		}
	}
	return false
}

// ruleESPMultipleClients: several LAN hosts send raw ESP to one server
// through this NAT; only one can hold the mapping. The others' ESP is
// either unanswered in conntrack or, when it clashed at the NAT, only
// counted by the observer.
func ruleESPMultipleClients(f facts) (cand candidate, ok bool) {
	clashed := f.espClashed()
	if !clashed && (len(f.esp) == 0 || anyAnswered(f.esp) || !f.nat) {
		return cand, false
	}
	var others []string
	for _, c := range f.ctx.ESPClients[f.s.Key.Peer] {
		if c.Host != f.s.Key.Host {
			slicex.Strings(&others, c.Host.String())
		}
	}
	if len(others) == 0 {
		return cand, false
	}
	ev := flowsEvidence(f.esp)
	if clashed {
		observedEvidence(addEvidence(&ev), f.s.ObservedOf(vpn.ObsESP, vpn.DirOut), f.host, f.peer)
	}
	return candidate{CodeESPMultipleClients, vpn.SeverityError, newParams("others", others), ev}, true
}

// dataAnswered reports whether data came back: raw ESP or GRE answered,
// ESP in UDP counted from the server, the UDP 4500 flow's counters moving
// both ways on a flowtable's fast path (which the observer never sees), or
// without the observer the UDP 4500 flow assured; for single-flow
// protocols an answered control flow.
func (f facts) dataAnswered() bool {
	switch {
	case f.s.Key.Protocol.SingleFlow():
		return anyAnswered(f.ctl)
	case f.s.Key.Protocol == vpn.PPTP:
		return anyAnswered(f.gre)
	case anyAnswered(f.esp) || f.s.ObservedOf(vpn.ObsESPInUDP, vpn.DirIn) != nil:
		return true
	}
	for _, n := range f.natt {
		if !isZero(&n.FastBoth) {
			return true
		}
	}
	if f.ctx.Observing {
		return false // the observer is authoritative for ESP in UDP
	}
	for _, n := range f.natt {
		if !isZero(&n.AssuredAt) {
			return true
		}
	}
	return false
}

// fastBlind reports whether a UDP 4500 flow went to a flowtable whose
// traffic vpnpass cannot see (no counters, or hardware): whether data
// flowed is then unknowable, and no verdict may rest on its absence.
func (f facts) fastBlind() bool {
	for _, n := range f.natt {
		if n.FastBlind() {
			return true
		}
	}
	return false
}

// ruleHealthy: the server answered and, where the protocol has a data plane,
// data flowed both ways. Its params say what proves it: the elements that
// answered, since when, and the packets counted each way.
func ruleHealthy(f facts) (cand candidate, ok bool) {
	if len(f.ctl) == 0 && len(f.natt) == 0 {
		return cand, false
	}
	if !f.dataAnswered() {
		return cand, false
	}
	params := newParams("natt", len(f.natt) > 0, "nat", f.nat, "live", !f.quietOrEnd)
	f.addProof(params)
	return candidate{CodeOK, vpn.SeverityOK, params, flowsEvidence(f.s.Flows)}, true
}
