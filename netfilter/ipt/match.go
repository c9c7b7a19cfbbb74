package ipt

import (
	"bytes"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
)

// tri is a three-valued match result: a rule we cannot evaluate for a
// packet is "maybe", which makes the verdict Uncertain, never a guess.
type tri int

const (
	no tri = iota
	yes
	maybe
)

func and(a, b tri) tri {
	switch {
	case a == no || b == no:
		return no
	case a == maybe || b == maybe:
		return maybe
	}
	return yes
}

func negate(t tri, neg bool) tri {
	if !neg || t == maybe {
		return t
	}
	if t == yes {
		return no
	}
	return yes
}

func boolTri(b bool) tri {
	if b {
		return yes
	}
	return no
}

// ipv6ExtHeader tells IPv6 extension headers: `-p` matches the upper-layer
// protocol found after them, so `-p ah` never matches in ip6tables.
func ipv6ExtHeader(n int) bool { return n == 0 || n == 43 || n == 44 || n == 51 || n == 60 }

// l4 returns the packet's upper-layer protocol as -p sees it; false when it
// is not given. An IPv6 AH packet is taken in tunnel mode, as a VPN sends
// it: AH is an extension header, and what -p sees after it is the inner
// IPv6 header (41).
func l4(p *netfilter.Packet) (int, bool) {
	switch {
	case p.L4 == 0:
		return 0, false
	case p.Family == vpn.IPv6 && p.L4 == vpn.ProtoAH:
		return 41, true
	}
	return int(p.L4), true
}

// matchRule evaluates every part of a rule for p. why names the first part
// that could not be evaluated.
func matchRule(r *Rule, p *netfilter.Packet) (tri, string) {
	if r.Bad != "" {
		return maybe, r.Bad
	}
	a := result{res: yes}
	a.add(matchAddr(r.Src, p.Src), "-s without a source address")
	a.add(matchAddr(r.Dst, p.Dst), "-d without a destination address")
	a.add(matchIf(r.In, p.InIf), "-i without an input interface")
	a.add(matchIf(r.Out, p.OutIf), "-o without an output interface")
	a.add(matchProto(r.Proto, p), "-p "+r.Proto.Raw)
	if r.Frag != nil {
		// Representative packets are never non-first fragments.
		a.add(boolTri(!*r.Frag), "-f")
	}
	for _, m := range r.Matches {
		a.add(matchModule(m, p))
	}
	if a.res != maybe {
		a.why = ""
	}
	return a.res, a.why
}

// result adds up the parts of a rule; why is the first part that was maybe.
type result struct {
	res tri
	why string
}

func (a *result) add(t tri, what string) {
	if t == maybe && a.why == "" {
		a.why = what
	}
	a.res = and(a.res, t)
}

func matchAddr(m addrMatch, a netip.Addr) tri {
	if !m.Set {
		return yes
	}
	if !a.IsValid() {
		return maybe
	}
	return negate(boolTri(m.Prefix.Contains(a.Unmap())), m.Neg)
}

func matchIf(m ifMatch, dev string) tri {
	if !m.Set {
		return yes
	}
	if m.Name == "+" {
		return negate(yes, m.Neg)
	}
	if dev == "" {
		return maybe
	}
	var ok bool
	if strings.HasSuffix(m.Name, "+") {
		ok = strings.HasPrefix(dev, strings.TrimSuffix(m.Name, "+"))
	} else {
		ok = dev == m.Name
	}
	return negate(boolTri(ok), m.Neg)
}

func matchProto(m protoMatch, p *netfilter.Packet) tri {
	if !m.Set {
		return yes
	}
	if m.Num < 0 {
		return maybe
	}
	if m.Num == 0 {
		return negate(yes, m.Neg)
	}
	if p.Family == vpn.IPv6 && ipv6ExtHeader(m.Num) {
		return negate(no, m.Neg)
	}
	got, ok := l4(p)
	if !ok {
		return maybe
	}
	return negate(boolTri(got == m.Num), m.Neg)
}

// matchModule evaluates one -m module. Unknown modules and options are maybe.
func matchModule(m match, p *netfilter.Packet) (tri, string) {
	what := "-m " + m.Module
	switch m.Module {
	case "comment":
		return yes, ""
	case "tcp":
		return matchPorts(m, p, 6), what
	case "udp":
		return matchPorts(m, p, 17), what
	case "multiport":
		return matchPorts(m, p, 0), what
	case "conntrack", "state":
		return matchState(m, p), what
	case "ah", "esp":
		return matchIPsec(m, p), what
	case "mac":
		return matchMAC(m, p), what
	case "icmp", "icmp6":
		if got, ok := l4(p); ok && got != 1 && got != 58 {
			return no, ""
		}
	}
	return maybe, what
}

// matchMAC handles -m mac --mac-source, known when the packet's MAC is.
func matchMAC(m match, p *netfilter.Packet) tri {
	out := yes
	for _, o := range m.Opts {
		if o.Name != "mac-source" || len(o.Vals) != 1 {
			return maybe
		}
		want, err := net.ParseMAC(o.Vals[0])
		if err != nil || p.SrcMAC == nil {
			return maybe
		}
		out = and(out, negate(boolTri(bytes.Equal(want, p.SrcMAC)), o.Neg))
	}
	return out
}

// matchPorts handles -m tcp/udp (proto > 0) and -m multiport (proto 0).
func matchPorts(m match, p *netfilter.Packet, proto int) tri {
	got, ok := l4(p)
	if !ok {
		return maybe
	}
	portful := got == 6 || got == 17 || got == 132 || got == 33 || got == 136
	if (proto > 0 && got != proto) || !portful {
		return no
	}
	res := yes
	for _, o := range m.Opts {
		var t tri
		switch o.Name {
		case "dport", "destination-port", "dports", "destination-ports":
			t = portIn(p.DstPort, o.Vals)
		case "sport", "source-port", "sports", "source-ports":
			t = portIn(p.SrcPort, o.Vals)
		case "ports":
			t = portIn(p.DstPort, o.Vals)
			if s := portIn(p.SrcPort, o.Vals); t != yes && s != no {
				t = s
			}
		default: // --tcp-flags, --syn, --tcp-option: not known for a representative packet
			t = maybe
		}
		res = and(res, negate(t, o.Neg))
	}
	return res
}

// portIn matches a port against "N", "N:M", ":M", "N:" or a comma list of them.
func portIn(port uint16, vals []string) tri {
	if len(vals) != 1 {
		return maybe
	}
	if port == 0 {
		return maybe
	}
	for _, part := range strings.Split(vals[0], ",") {
		lo, hi, ok := portRange(part)
		if !ok {
			return maybe
		}
		if int(port) >= lo && int(port) <= hi {
			return yes
		}
	}
	return no
}

func portRange(s string) (lo, hi int, ok bool) {
	a, b, isRange := strings.Cut(s, ":")
	if !isRange {
		b = a
	}
	lo, hi = 0, 65535
	var err error
	if a != "" {
		if lo, err = strconv.Atoi(a); err != nil {
			return 0, 0, false
		}
	}
	if b != "" {
		if hi, err = strconv.Atoi(b); err != nil {
			return 0, 0, false
		}
	}
	return lo, hi, true
}

// matchState handles -m conntrack --ctstate and -m state --state. DNAT is
// taken as false (representative packets are LAN→WAN or their replies, not
// port forwards); SNAT depends on masquerade, so it is maybe.
func matchState(m match, p *netfilter.Packet) tri {
	res := yes
	for _, o := range m.Opts {
		if (o.Name != "ctstate" && o.Name != "state") || len(o.Vals) != 1 {
			return maybe
		}
		if p.CtState == "" {
			return maybe
		}
		t := no
		for _, s := range strings.Split(o.Vals[0], ",") {
			switch {
			case strings.EqualFold(s, p.CtState):
				t = yes
			case strings.EqualFold(s, "SNAT") && t == no:
				t = maybe
			}
		}
		res = and(res, negate(t, o.Neg))
	}
	return res
}

// matchIPsec handles -m ah / -m esp: without options they only need the
// header; SPI ranges are not known for a representative packet.
func matchIPsec(m match, p *netfilter.Packet) tri {
	want := vpn.ProtoESP
	if m.Module == "ah" {
		want = vpn.ProtoAH
	}
	if p.L4 == 0 {
		return maybe
	}
	if p.L4 != want {
		return no
	}
	if len(m.Opts) > 0 {
		return maybe
	}
	return yes
}
