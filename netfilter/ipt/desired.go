package ipt

import (
	"strconv"

	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
)

// Names of what we own in iptables.
const (
	ChainFwd    = "vpnpass_fwd"    // filter: allow/block rules
	ChainHelper = "vpnpass_helper" // raw: CT --helper pptp
	TagJump     = "vpnpass:jump"   // comment of our jumps into those chains
)

const (
	tableFilter = "filter"
	tableRaw    = "raw"
	chainFW3    = "forwarding_rule" // fw3's custom forward chain, reached first from FORWARD
)

// spec is one rule we want: its chain and its spec words in the order
// `iptables -S` prints them (-s -d -i -o -p, matches, comment, target), so
// that what we write reads back word for word.
type spec struct {
	table, chain string
	proto        vpn.Protocol // "" for jumps
	args         []string
}

// addSpecs appends v to *s: one call instead of append's inline code at
// each site (see internal/slicex).
func addSpecs(s *[]spec, v ...spec) { *s = append(*s, v...) }

func (s spec) rule() *Rule { return parseRule(s.chain, s.args) }

// layout is what we want in one family: our chains' rules and the jumps.
type layout struct {
	fwd, helper []spec
}

// checkDesired refuses modes other than allow, block and default.
func checkDesired(d netfilter.Desired) error {
	for p := range d {
		if _, err := netfilter.ParseMode(string(d.Mode(p))); err != nil {
			return netfilter.Wrap(string(p), err)
		}
	}
	return nil
}

// desiredLayout renders d for one family. lans may be empty (rules then
// match any input interface). wans are the family's WAN devices: none means
// no forward rules at all, never rules for any output interface (an IPv6-only
// uplink must not turn an IPv4 allow into "accept to everywhere").
func desiredLayout(d netfilter.Desired, fam vpn.Family, lans, wans []string) layout {
	if len(lans) == 0 {
		lans = []string{""}
	}
	var l layout
	for _, p := range vpn.Toggled {
		mode := d.Mode(p)
		if mode == netfilter.ModeDefault {
			continue
		}
		for _, lan := range lans {
			for _, wan := range wans {
				for _, e := range vpn.Footprint(p) {
					if e.Family == fam {
						addSpecs(&l.fwd, fwdSpecs(p, mode, e, lan, wan)...)
					}
				}
			}
		}
		if p == vpn.PPTP && mode == netfilter.ModeAllow && fam == vpn.IPv4 {
			l.helper = helperSpecs(lans, wans)
		}
	}
	l.fwd, l.helper = dedupe(l.fwd), dedupe(l.helper)
	return l
}

// fwdSpecs renders one footprint element: LAN→WAN accept plus its narrow
// replies (allow), or LAN→WAN drop whatever the ct state (block).
func fwdSpecs(p vpn.Protocol, mode netfilter.Mode, e vpn.Element, lan, wan string) []spec {
	tag := netfilter.Tag(p)
	if mode == netfilter.ModeBlock {
		return []spec{{tableFilter, ChainFwd, p, ruleArgs(lan, wan, elemMatch(e, false), "", tag, "DROP")}}
	}
	state := "ESTABLISHED"
	if e.L4 == vpn.ProtoGRE {
		// GRE of a PPTP call arrives through the helper's expectation: RELATED first.
		state = "RELATED,ESTABLISHED"
	}
	return []spec{
		{tableFilter, ChainFwd, p, ruleArgs(lan, wan, elemMatch(e, false), "", tag, "ACCEPT")},
		{tableFilter, ChainFwd, p, ruleArgs(wan, lan, elemMatch(e, true), state, tag, "ACCEPT")},
	}
}

// ruleArgs renders the words of one of our rules, in the order iptables -S
// prints them: [-i in] [-o out] match [-m conntrack --ctstate state]
// -m comment --comment tag -j target...
func ruleArgs(in, out string, match []string, state, tag string, target ...string) []string {
	var a []string
	if in != "" {
		slicex.Strings(&a, "-i", in)
	}
	if out != "" {
		slicex.Strings(&a, "-o", out)
	}
	slicex.Strings(&a, match...)
	if state != "" {
		slicex.Strings(&a, "-m", "conntrack", "--ctstate", state)
	}
	slicex.Strings(&a, "-m", "comment", "--comment", tag, "-j")
	slicex.Strings(&a, target...)
	return a
}

// helperSpecs assigns the pptp helper to TCP 1723 from each LAN device
// (PREROUTING) and, through the OUTPUT jump, to the router's own PPTP
// towards each IPv4 WAN device. A packet in PREROUTING has no output device,
// and one in OUTPUT no input device, so each rule only ever matches on its
// own hook. Without a WAN device there is no router rule: one without -o
// would also assign the helper to TCP 1723 arriving from any side.
func helperSpecs(lans, wans []string) []spec {
	var out []spec
	m := elemMatch(vpn.Element{Family: vpn.IPv4, L4: vpn.ProtoTCP, Port: vpn.PortPPTP}, false)
	tag := netfilter.Tag(vpn.PPTP)
	for _, lan := range lans {
		addSpecs(&out, spec{tableRaw, ChainHelper, vpn.PPTP, ruleArgs(lan, "", m, "", tag, "CT", "--helper", "pptp")})
	}
	for _, wan := range wans {
		addSpecs(&out, spec{tableRaw, ChainHelper, vpn.PPTP, ruleArgs("", wan, m, "", tag, "CT", "--helper", "pptp")})
	}
	return out
}

func jumpSpec(table, parent, target string) spec {
	return spec{table: table, chain: parent,
		args: []string{"-m", "comment", "--comment", TagJump, "-j", target}}
}

// elemMatch matches one element; reply swaps the port to the source side.
func elemMatch(e vpn.Element, reply bool) []string {
	switch e.L4 {
	case vpn.ProtoTCP, vpn.ProtoUDP:
		name := "udp"
		if e.L4 == vpn.ProtoTCP {
			name = "tcp"
		}
		dir := "--dport"
		if reply {
			dir = "--sport"
		}
		return []string{"-p", name, "-m", name, dir, strconv.Itoa(int(e.Port))}
	case vpn.ProtoAH:
		if e.Family == vpn.IPv6 {
			// In IPv6, AH is an extension header: -p 51 never matches,
			// the ah match finds the header.
			return []string{"-m", "ah"}
		}
	}
	return []string{"-p", strconv.Itoa(int(e.L4))}
}

func dedupe(in []spec) []spec {
	var seen []string // keys of out: a handful of specs, no map
	var out []spec
	for _, s := range in {
		k := s.rule().Key()
		if !contains(seen, k) {
			slicex.Strings(&seen, k)
			addSpecs(&out, s)
		}
	}
	return out
}
