package fw

import (
	"net/netip"
	"slices"

	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/nfteval"
	"github.com/vpnpass/vpnpass/vpn"
)

// server judges every inbound element of protocol p toward the server at
// addr; the verdict is the worst, decided by the first element that has it.
func (j *inboundJudge) server(addr netip.Addr, p vpn.Protocol) netfilter.InboundStatus {
	fam := vpn.IPv4
	if addr.Is6() {
		fam = vpn.IPv6
	}
	st := netfilter.InboundStatus{Server: addr, Family: fam, Blocked: []string{}}
	var control inboundResult
	for i, e := range vpn.InboundElements(p, fam) {
		var to netip.Addr
		var ex netfilter.Explanation
		if e.L4 == vpn.ProtoGRE && fam == vpn.IPv4 && control.to == addr && slices.Contains(control.helpers, "pptp") {
			to, ex = control.to, j.relatedGRE(addr)
		} else {
			r := j.elementOnce(addr, e)
			to, ex = r.to, r.ex
			if i == 0 {
				control = r
			}
		}
		if i == 0 && to.IsValid() {
			st.ForwardedTo = &to
		}
		if ex.Verdict != netfilter.Accept {
			slicex.Strings(&st.Blocked, e.Match())
		}
		if w := netfilter.Worst(st.Verdict, ex.Verdict); st.Verdict == "" || w != st.Verdict {
			st.Verdict, st.DecidedBy = w, ex.DecidedBy
		}
	}
	return st
}

// elementOnce is element, remembered for the judge's life.
func (j *inboundJudge) elementOnce(addr netip.Addr, e vpn.Element) inboundResult {
	k := inboundKey{addr, e}
	if r, ok := j.memo[k]; ok {
		return r
	}
	r := j.element(addr, e)
	j.memo[k] = r
	return r
}

// relatedGRE: the pptp helper follows the forwarded control connection and
// its NAT maps the call's GRE to the server, as a related packet.
func (j *inboundJudge) relatedGRE(addr netip.Addr) netfilter.Explanation {
	p := netfilter.Packet{Family: vpn.IPv4, L4: vpn.ProtoGRE, InIf: j.o.WANDevice, OutIf: j.lanDevice(),
		Dst: addr, CtState: "related", DNAT: netfilter.Bool(true)}
	return netfilter.EvaluateHook(j.chains[hookForward][famV4], p)
}

// element follows a client's first packet of e: to is the DNAT target
// (IPv4), ex what happens to the packet as far as the server is concerned.
func (j *inboundJudge) element(addr netip.Addr, e vpn.Element) inboundResult {
	p := netfilter.Packet{Family: e.Family, L4: e.L4, DstPort: e.Port, SrcPort: 40000, InIf: j.o.WANDevice,
		CtState: "new", DNAT: netfilter.Bool(false)}
	if e.Kind().Symmetric() {
		p.SrcPort = e.Port
	}
	if e.Family == vpn.IPv6 {
		p.Dst, p.OutIf = addr, j.lanDevice()
		return inboundResult{ex: netfilter.EvaluateHook(j.chains[hookForward][famV6], p)}
	}
	if len(j.src.ipt) > 0 {
		// iptables' nat PREROUTING (fw3's redirects) is not inspected.
		return inboundResult{ex: netfilter.Explanation{Verdict: netfilter.Uncertain, DecidedBy: &netfilter.Decider{
			Backend: j.src.ipt[0].Kind, Table: "nat", Chain: "PREROUTING"}}}
	}
	p.Dst = j.o.WANAddr
	var d nfteval.DNAT
	if j.src.rs != nil {
		dn, pre, err := j.src.rs.DNATOf(p)
		if err != nil || pre.Verdict != netfilter.Accept {
			if err != nil {
				pre.Verdict = netfilter.Uncertain
			}
			return inboundResult{ex: pre, helpers: dn.Helpers}
		}
		d = dn
	}
	r := inboundResult{to: d.To, helpers: d.Helpers}
	switch {
	case !d.Found:
		r.ex = j.notForwarded(p)
	case d.Redirect:
		r.to, r.ex = netip.Addr{}, netfilter.Explanation{Verdict: netfilter.Drop, DecidedBy: d.By}
	case !d.To.IsValid():
		r.ex = netfilter.Explanation{Verdict: netfilter.Uncertain, DecidedBy: d.By}
	case d.To.Unmap() != addr:
		r.ex = netfilter.Explanation{Verdict: netfilter.Drop, DecidedBy: d.By}
	default:
		p.Dst, p.DNAT, p.OutIf = d.To, netfilter.Bool(true), j.lanDevice()
		if d.Port != 0 {
			p.DstPort = d.Port
		}
		r.ex = netfilter.EvaluateHook(j.chains[hookForward][famV4], p)
	}
	return r
}

// notForwarded: the packet stays with the router. Its input hook decides
// whether it is dropped or rejected there; if the router accepts it (a
// service of its own), the LAN server still never sees it.
func (j *inboundJudge) notForwarded(p netfilter.Packet) netfilter.Explanation {
	ex := netfilter.EvaluateHook(j.chains[hookInput][famV4], p)
	if ex.Verdict == netfilter.Accept {
		ex.Verdict, ex.DecidedBy = netfilter.Drop, &netfilter.Decider{Chain: "prerouting", Policy: netfilter.NoForward}
	}
	return ex
}

func (j *inboundJudge) lanDevice() string {
	if len(j.o.LANDevices) > 0 {
		return j.o.LANDevices[0]
	}
	return ""
}
