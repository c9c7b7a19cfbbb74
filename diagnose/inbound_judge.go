package diagnose

import (
	"github.com/vpnpass/vpnpass/internal/slicex"
	"net/netip"
	"time"

	"github.com/vpnpass/vpnpass/internal/sortx"
	"github.com/vpnpass/vpnpass/vpn"
)

// InboundContext is what the inbound judgement reads besides the attempts.
type InboundContext struct {
	Now time.Time
	NAT NATVerdict
	// Servers are the configured VPN servers on the LAN and their protocols.
	Servers map[netip.Addr][]vpn.Protocol
	// HostInfo names a LAN host and its MAC.
	HostInfo func(netip.Addr) (name, mac string)
}

// Judge returns the inbound findings at ctx.Now, one per (client,
// protocol) whose attempts were never answered, and one per configured
// server and protocol that nothing reaches behind a double NAT.
func (t *InboundTracker) Judge(ctx InboundContext) []Finding {
	var out []Finding
	seen := map[vpn.Protocol]bool{}
	for _, g := range t.groups() {
		seen[g.proto] = true
		if f, ok := g.notForwarded(&ctx); ok {
			out = append(out, f)
		}
	}
	return append(out, doubleNAT(&ctx, seen)...)
}

// attemptGroup is one client's attempts of one protocol.
type attemptGroup struct {
	client   netip.Addr
	proto    vpn.Protocol
	attempts []*InboundAttempt
}

func (t *InboundTracker) groups() []*attemptGroup {
	var out []*attemptGroup
	index := map[[2]string]*attemptGroup{}
	for _, a := range t.Attempts() {
		p := a.Kind.Protocol()
		k := [2]string{a.Client.String(), string(p)}
		g := index[k]
		if g == nil {
			g = &attemptGroup{client: a.Client, proto: p}
			index[k] = g
			out = append(out, g)
		}
		g.attempts = append(g.attempts, a)
	}
	return out
}

// notForwarded judges a group: no attempt answered within
// InboundAnswerWait means nothing on the LAN took the client's packets.
func (g *attemptGroup) notForwarded(ctx *InboundContext) (f Finding, ok bool) {
	first, last := g.attempts[0].FirstSeen, g.attempts[0].LastSeen
	var server, target netip.Addr
	var ev []Evidence
	for _, a := range g.attempts {
		if !isZero(&a.AnsweredAt) {
			return f, false
		}
		if a.Server.IsValid() {
			server = a.Server
		}
		target = a.Target
		if before(&last, &a.LastSeen) {
			last = a.LastSeen
		}
		attemptEvidence(addEvidence(&ev), a)
	}
	if sub(&ctx.Now, &first) < InboundAnswerWait {
		return f, false
	}
	client := g.client.String()
	params := newParams("protocol", string(g.proto), "peer", client,
		"wan_address", target.String(), "matches", inboundMatches(g.proto))
	host := server
	if server.IsValid() {
		params["forwarded_to"] = server.String()
	} else if s, ok := configuredServer(ctx.Servers, g.proto); ok {
		host = s
		params["server"] = s.String()
	}
	f.Code, f.Severity, f.Protocol, f.Peer = CodeInboundNotForwarded, vpn.SeverityError, g.proto, client
	f.FirstSeen, f.LastSeen, f.Params, f.Evidence = first, last, params, ev
	f.fillHost(host, ctx)
	f.Message, f.Advice = describe(f.Code, params, "")
	return f, true
}

func (f *Finding) fillHost(host netip.Addr, ctx *InboundContext) {
	if !host.IsValid() {
		return
	}
	f.Host = host.String()
	f.Params["host"] = f.Host
	if ctx.HostInfo != nil {
		f.HostName, f.HostMAC = ctx.HostInfo(host)
	}
}

// doubleNAT: a configured server whose protocol no client's packet reached
// while the router's WAN sits behind another NAT: the box in front keeps
// them.
func doubleNAT(ctx *InboundContext, seen map[vpn.Protocol]bool) []Finding {
	if ctx.NAT.Code != vpn.NATDouble && ctx.NAT.Code != vpn.NATCGNAT {
		return nil
	}
	var out []Finding
	for _, s := range sortedServers(ctx.Servers) {
		if !s.Is4() {
			continue // IPv6 is not translated
		}
		for _, p := range ctx.Servers[s] {
			if seen[p] || (p == vpn.L2TP && seen[vpn.IPsec]) {
				continue
			}
			params := newParams("protocol", string(p), "server", s.String(), "nat", string(ctx.NAT.Code),
				"wan_address", ctx.NAT.Address, "upstream", ctx.NAT.Upstream, "matches", inboundMatches(p))
			f := Finding{Code: CodeInboundBehindDoubleNAT, Severity: vpn.SeverityWarning, Protocol: p,
				FirstSeen: ctx.Now, LastSeen: ctx.Now, Params: params,
				Evidence: addressEvidence(ctx.NAT)}
			f.fillHost(s, ctx)
			f.Message, f.Advice = describe(f.Code, params, "")
			out = append(out, f)
		}
	}
	return out
}

func attemptEvidence(e *Evidence, a *InboundAttempt) {
	e.Kind, e.Src, e.Dst, e.Match = "observer", a.Client.String(), a.Target.String(), a.Kind.Match()
	e.Direction, e.Packets, e.State = string(vpn.DirWAN), a.Packets, "unreplied"
	e.FirstSeen, e.LastSeen = rfc3339(&a.FirstSeen), rfc3339(&a.LastSeen)
	if a.flow {
		e.Kind, e.Match, e.Direction, e.DstPort = "flow", "", "", a.Port
		e.Proto = vpn.L4Name(protoL4(a.Kind))
	}
	if a.Server.IsValid() {
		e.Note = "forwarded to " + a.Server.String()
	}
}

// inboundMatches are the match strings a server of p needs forwarded.
func inboundMatches(p vpn.Protocol) []string {
	var out []string
	for _, e := range vpn.InboundElements(p, vpn.IPv4) {
		slicex.Strings(&out, e.Match())
	}
	return out
}

// configuredServer returns the configured server of protocol p (IPv4
// first: what a port forward names), when there is exactly one candidate.
func configuredServer(servers map[netip.Addr][]vpn.Protocol, p vpn.Protocol) (none netip.Addr, _ bool) {
	for _, s := range sortedServers(servers) {
		if s.Is4() && (containsProto(servers[s], p) || p == vpn.IPsec && containsProto(servers[s], vpn.L2TP)) {
			return s, true
		}
	}
	return none, false
}

func sortedServers(m map[netip.Addr][]vpn.Protocol) []netip.Addr {
	out := make([]netip.Addr, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	sortx.Sort(len(out), func(i, j int) bool { return out[i].Less(out[j]) }, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
