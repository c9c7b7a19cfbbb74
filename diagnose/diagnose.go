package diagnose

import (
	"github.com/vpnpass/vpnpass/internal/slicex"
	"net/netip"

	"github.com/vpnpass/vpnpass/internal/jsonx"

	"github.com/vpnpass/vpnpass/vpn"
)

// candidate is one cause a rule found, before precedence picks the finding.
type candidate struct {
	code     Code
	severity vpn.Severity
	params   map[string]any
	evidence []Evidence
}

// facts are the session's flows sorted by kind, plus derived booleans, so
// rules stay one screen each.
type facts struct {
	s          *Session
	ctx        *Context // by pointer: facts are passed by value to every rule
	host, peer string   // the session's addresses as text
	v4         bool
	nat        bool // this router rewrites the session's source address
	quietOrEnd bool // the session ended or has been quiet for QuietAfter
	ike        []*SessionFlow
	natt       []*SessionFlow
	esp        []*SessionFlow
	ah         []*SessionFlow
	gre        []*SessionFlow
	ctl        []*SessionFlow // the protocol's control flows (IKE for IPsec)
}

func newFacts(s *Session, ctx *Context) facts {
	f := facts{s: s, ctx: ctx, v4: s.Key.Host.Unmap().Is4(), host: s.Key.Host.String(), peer: s.Key.Peer.String()}
	f.quietOrEnd = s.QuietOrEnded(ctx.Now)
	f.ike, f.natt = s.FlowsOf(vpn.KindIKE), s.FlowsOf(vpn.KindNATT)
	f.esp, f.ah, f.gre = s.FlowsOf(vpn.KindESP), s.FlowsOf(vpn.KindAH), s.FlowsOf(vpn.KindGRE)
	switch s.Key.Protocol {
	case vpn.IPsec:
		f.ctl = f.ike
		if len(f.ike) == 0 {
			f.ctl = f.natt // a client that starts on 4500
		}
	case vpn.PPTP:
		f.ctl = s.FlowsOf(vpn.KindPPTP)
	default:
		for _, fl := range s.Flows {
			if isControl(s.Key.Protocol, fl.Kind) {
				f.ctl = append(f.ctl, fl)
			}
		}
	}
	f.nat = f.v4 && !s.Router && ctx.RouterNATs
	for _, fl := range s.Flows {
		if fl.Flow.SrcNATed() {
			f.nat = true
		}
	}
	return f
}

// anyAnswered reports whether any of the flows saw a reply.
func anyAnswered(fs []*SessionFlow) bool {
	for _, f := range fs {
		if f.Answered() {
			return true
		}
	}
	return false
}

// unanswered reports whether there are flows, none answered, and the first
// request is older than AnswerWithin.
func (f facts) unanswered(fs []*SessionFlow) bool {
	if len(fs) == 0 || anyAnswered(fs) {
		return false
	}
	return fs[0].Unanswered(f.ctx.Now)
}

// rules in precedence order, tier by tier: a lower tier is the more
// specific cause and wins (docs/design.md#the-doctor); each rule's codes
// belong to one tier: 0 firewall-drops; 1 helper-unavailable; 2
// pptp-no-helper, ah-through-nat; 3 the "-unanswered" codes, natt-blocked,
// esp-blocked, gre-blocked (blocked beyond this router); 4 the rest.
// Diagnose keeps every match in this order, so the first one wins and ties
// keep rule order (TestPrecedence pins the tiers).
var rules = []func(facts) (candidate, bool){
	ruleFirewallDrops,
	ruleHelperUnavailable,
	rulePPTPNoHelper,
	ruleAHThroughNAT,
	ruleControlUnanswered,
	ruleNATTBlocked,
	ruleESPBlocked,
	ruleGREBlocked,
	// Within the last tier the clash between hosts is the more specific
	// cause: list it first (ties keep rule order).
	ruleESPMultipleClients,
	ruleIKEAuthFailed,
	ruleNATTNotNegotiated,
	ruleL2TPWithoutIPsec,
}

// Diagnose judges one session: at most one cause (the most specific by
// the precedence of docs/design.md#the-doctor, with the others' facts as evidence), plus
// vpn-behind-double-nat or ipv4-sharing beside a failure, or vpn-ok when the
// session is healthy. An inconclusive session gives nothing.
func Diagnose(s *Session, ctx Context) []Finding { return diagnose(s, &ctx) }

func diagnose(s *Session, ctx *Context) []Finding {
	f := newFacts(s, ctx)
	var cands []candidate
	for _, r := range rules {
		if c, ok := r(f); ok {
			cands = append(cands, c)
		}
	}
	var main candidate
	if len(cands) > 0 {
		main = outrank(cands)
	} else if c, ok := ruleHealthy(f); ok {
		main = c // natBeside adds nothing to vpn-ok
	} else {
		return nil
	}
	out := make([]Finding, 1, 2)
	f.finding(&out[0], &main)
	if c, ok := natBeside(f, main); ok {
		out = out[:2]
		f.finding(&out[1], &c)
	}
	return out
}

// outrank returns the first (most specific) candidate carrying the others:
// their codes in params "also", and their evidence, tagged with their code,
// unless the same fact is already there.
func outrank(cands []candidate) candidate {
	main := cands[0]
	if len(cands) == 1 {
		return main
	}
	params := map[string]any{}
	for k, v := range main.params {
		params[k] = v
	}
	var also []string
	for _, other := range cands[1:] {
		slicex.Strings(&also, string(other.code))
		for i := range other.evidence {
			if e := &other.evidence[i]; !hasEvidence(main.evidence, e) {
				n := addEvidence(&main.evidence)
				*n = *e
				n.Code = other.code
			}
		}
	}
	params["also"] = also
	main.params = params
	return main
}

// hasEvidence reports whether list holds the fact e, whatever the Code. Equal
// JSON is equal fields (every field is a string or an integer, and omitempty
// leaves out only zero values); compared so, Evidence needs no generated
// equality function.
func hasEvidence(list []Evidence, e *Evidence) bool {
	key := evidenceKey(e)
	for i := range list {
		if evidenceKey(&list[i]) == key {
			return true
		}
	}
	return false
}

// evidenceKey is e's JSON without its Code (cleared for the call, then put back).
func evidenceKey(e *Evidence) string {
	code := e.Code
	e.Code = ""
	b, _ := jsonx.Marshal(e)
	e.Code = code
	return string(b)
}

// finding builds the Finding of a candidate: message and advice from the
// code and params, identity and times from the session, into out (zero).
func (f facts) finding(out *Finding, c *candidate) {
	s := f.s
	params := f.baseParams()
	for k, v := range c.params {
		params[k] = v
	}
	out.Code, out.Severity, out.Protocol = c.code, c.severity, s.Key.Protocol
	out.Host, out.Peer = f.host, f.peer
	out.FirstSeen, out.LastSeen = s.FirstSeen, s.LastSeen
	out.Params, out.Evidence = params, c.evidence
	if f.ctx.HostInfo != nil && !s.Router {
		out.HostName, out.HostMAC = f.ctx.HostInfo(s.Key.Host)
	}
	out.Message, out.Advice = describe(out.Code, params, hostLabel(s.Router, f.host, out.HostName))
}

func (f facts) baseParams() map[string]any {
	return newParams(
		"host", f.host,
		"peer", f.peer,
		"protocol", string(f.s.Key.Protocol),
		"router", f.s.Router,
	)
}

// natBeside adds vpn-behind-double-nat or ipv4-sharing next to a failure
// when the WAN watch says the router's IPv4 sits behind another NAT.
func natBeside(f facts, main candidate) (cand candidate, ok bool) {
	if !f.v4 || main.severity == vpn.SeverityOK {
		return cand, false
	}
	n := f.ctx.NAT
	ev := addressEvidence(n)
	params := newParams("wan_address", n.Address, "class", n.Class, "upstream", n.Upstream)
	switch n.Code {
	case vpn.NATDouble, vpn.NATCGNAT:
		params["nat"] = n.Code
		return candidate{CodeDoubleNAT, vpn.SeverityWarning, params, ev}, true
	case vpn.NATIPv4Sharing:
		sev := vpn.SeverityWarning
		if f.s.Key.Protocol == vpn.PPTP || len(f.esp) > 0 || len(f.ah) > 0 {
			sev = vpn.SeverityError // GRE and raw ESP/AH cannot cross a shared address at all
		}
		return candidate{CodeIPv4Sharing, sev, params, ev}, true
	}
	return cand, false
}

// hostLabel is how messages name the host.
func hostLabel(router bool, host, name string) string {
	switch {
	case router:
		return "This router (" + host + ")"
	case name != "":
		return "Your device " + name + " (" + host + ")"
	}
	return "Your device " + host
}

// addEvidence appends a zero Evidence to *ev and returns it to fill in place:
// Evidence is wide, and building it in the slice saves a copy per result and
// the inline append at each site (mips passes and returns it on the stack).
func addEvidence(ev *[]Evidence) *Evidence {
	*ev = append(*ev, Evidence{})
	return &(*ev)[len(*ev)-1]
}

// flowEvidence renders a session flow as evidence into e.
func flowEvidence(e *Evidence, sf *SessionFlow) {
	fl := sf.Flow
	e.Kind, e.Proto, e.Src, e.Dst = "flow", vpn.L4Name(fl.L4), addrString(fl.Orig.Src), addrString(fl.Orig.Dst)
	e.Helper, e.Packets, e.Bytes = fl.Helper, fl.CounterOrig.Packets, fl.CounterOrig.Bytes
	e.RPackets, e.RBytes = fl.CounterReply.Packets, fl.CounterReply.Bytes
	switch fl.L4 {
	case vpn.ProtoTCP, vpn.ProtoUDP:
		e.SrcPort, e.DstPort = fl.Orig.SrcPort, fl.Orig.DstPort
	case vpn.ProtoGRE:
		e.SrcKey, e.DstKey = fl.Orig.SrcPort, fl.Orig.DstPort
	}
	if fl.SrcNATed() {
		e.NATSrc = fl.Reply.Dst.String()
	}
	e.State = flowState(sf)
	e.FirstSeen, e.LastSeen = rfc3339(&sf.FirstSeen), rfc3339(&sf.LastSeen)
}

func flowState(sf *SessionFlow) string {
	switch {
	case !isZero(&sf.EndedAt) && !sf.Answered():
		return "unreplied, destroyed"
	case !isZero(&sf.EndedAt):
		return "destroyed"
	case !isZero(&sf.AssuredAt):
		return "assured"
	case sf.Answered():
		return "replied"
	}
	return "unreplied"
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func flowsEvidence(fs ...[]*SessionFlow) []Evidence {
	var out []Evidence
	for _, group := range fs {
		for _, sf := range group {
			flowEvidence(addEvidence(&out), sf)
		}
	}
	return out
}

func observedEvidence(e *Evidence, o *ObservedCount, host, peer string) {
	e.Kind, e.Match, e.Direction = "observer", string(o.Element), string(o.Direction)
	e.Packets, e.Bytes, e.Src, e.Dst = o.Packets, o.Bytes, host, peer
	e.FirstSeen, e.LastSeen = rfc3339(&o.FirstSeen), rfc3339(&o.LastSeen)
	if o.Direction == vpn.DirIn {
		e.Src, e.Dst = e.Dst, e.Src
	}
}

// addressEvidence is the WAN watch's verdict as evidence. (Built with make:
// a one-element literal's array type costs a 2 KB equality function.)
func addressEvidence(n NATVerdict) []Evidence {
	ev := make([]Evidence, 1)
	ev[0] = Evidence{Kind: "address", Address: n.Address, Class: n.Class, Device: n.Device}
	return ev
}

func ruleEvidence(e *Evidence, d *DropRule) {
	e.Kind, e.Match, e.Verdict = "rule", d.Element.Match(), d.Verdict
	e.Table, e.Chain, e.Handle = d.DecidedBy.Table, d.DecidedBy.Chain, d.DecidedBy.Handle
	e.Comment, e.Backend = d.DecidedBy.Comment, d.DecidedBy.Backend
}
