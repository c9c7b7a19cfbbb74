package nft

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
)

// Names in our own table. The ct helper object must live in the table whose
// rules reference it: helper objects are table-scoped.
const (
	OurTable     = netfilter.TablePrefix // table inet vpnpass
	HelperObject = netfilter.TablePrefix + "_pptp"
)

// Base chains of our table. Priorities:
//   - prerouting/output at -150 (mangle): after conntrack (-200) has created
//     the unconfirmed entry a helper can be attached to, and ahead of fw4's
//     own helper chain at priority filter (0); the first assignment wins, so
//     ours holds even when fw4 rendered no pptp rule because the module was
//     loaded after its last render.
//   - forward at +10: a drop is final wherever it sits, so the block chain
//     runs after the filter (fw4's counters still see the packet) and after
//     the observer table that counts attempts ahead of the filter.
const (
	chainPrerouting = "prerouting"
	chainOutput     = "output"
	chainForward    = "forward"

	prioHelper = -150
	prioBlock  = 10
)

// nfproto values (NFPROTO_*), fixed by the kernel ABI.
const (
	nfprotoAny  uint8 = 0
	nfprotoIPv4 uint8 = 2
	nfprotoIPv6 uint8 = 10
)

// family is an nft table family, named as nft names it.
type family string

const (
	famInet family = "inet"
	famIP   family = "ip"
	famIP6  family = "ip6"
)

// ruleKind is the role of one rule we install.
type ruleKind int

const (
	kindAllow     ruleKind = iota // LAN→WAN footprint accept, foreign forward chain
	kindReply                     // WAN→LAN replies of the footprint, foreign forward chain
	kindBlock                     // LAN→WAN footprint drop, our forward chain
	kindHelper                    // ct helper set, our prerouting chain
	kindHelperOut                 // ct helper set for router-originated PPTP, our output chain
)

// ruleSpec is one rule, built only from validated typed values. It is
// rendered to netlink expressions, and its nft text (include file, dry-run)
// is those expressions described; tests check both agree with what nft
// itself makes of the text.
type ruleSpec struct {
	proto   vpn.Protocol
	kind    ruleKind
	nfproto uint8 // restrict to one address family in an inet table
	l4      uint8
	port    uint16   // destination port for tcp/udp
	lan     []string // sorted; iifname (allow, block, helper) or oifname (reply)
	wan     []string // sorted, never empty for allow/reply/block; oifname (allow, block) or iifname (reply)
}

// element is one (l4, port) of a footprint with the families it applies to.
type element struct {
	_    [0]func() // not comparable: no generated equality function (binary size)
	l4   uint8
	port uint16
	v4   bool
	v6   bool
}

// elements folds netfilter.Footprint(p) into one entry per (l4, port), in
// footprint order, remembering which families carry it.
func elements(p vpn.Protocol) []element {
	var out []element
	idx := map[[2]int]int{}
	for _, e := range vpn.Footprint(p) {
		k := [2]int{int(e.L4), int(e.Port)}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, element{l4: e.L4, port: e.Port})
		}
		if e.Family == vpn.IPv4 {
			out[i].v4 = true
		} else {
			out[i].v6 = true
		}
	}
	return out
}

// nfprotoFor says which nfproto restriction an element needs in a table of
// family f, and whether the element applies to that family at all.
func (e element) nfprotoFor(f family) (uint8, bool) {
	switch f {
	case famIP:
		return nfprotoAny, e.v4
	case famIP6:
		return nfprotoAny, e.v6
	}
	switch {
	case e.v4 && e.v6:
		return nfprotoAny, true
	case e.v4:
		return nfprotoIPv4, true
	case e.v6:
		return nfprotoIPv6, true
	}
	return nfprotoAny, false
}

// allowSpecs are the rules an allow of p puts in a foreign forward chain of
// a table of family f: the footprint out, and its replies back.
func (c config) allowSpecs(p vpn.Protocol, f family) []ruleSpec {
	var out []ruleSpec
	for _, base := range c.forwardSpecs(p, f) {
		allow, reply := base, base
		allow.kind, reply.kind = kindAllow, kindReply
		out = append(out, allow, reply)
	}
	return out
}

// blockSpecs are the drop rules a block of p puts in our forward chain.
func (c config) blockSpecs(p vpn.Protocol) []ruleSpec {
	out := c.forwardSpecs(p, famInet)
	for i := range out {
		out[i].kind = kindBlock
	}
	return out
}

// forwardSpecs binds each footprint element of p to the WAN devices of its
// families. In an inet table an element of both families stays one rule
// when both families leave by the same devices, else it splits per family;
// a family without WAN devices gets no rule (never one for any egress).
func (c config) forwardSpecs(p vpn.Protocol, f family) []ruleSpec {
	var out []ruleSpec
	for _, e := range elements(p) {
		nfp, ok := e.nfprotoFor(f)
		if !ok {
			continue
		}
		base := ruleSpec{proto: p, l4: e.l4, port: e.port, lan: c.lan}
		v4, v6 := c.wan.IPv4, c.wan.IPv6
		switch {
		case f == famIP || nfp == nfprotoIPv4:
			out = appendBound(out, base, nfp, v4)
		case f == famIP6 || nfp == nfprotoIPv6:
			out = appendBound(out, base, nfp, v6)
		case slices.Equal(v4, v6):
			out = appendBound(out, base, nfprotoAny, v4)
		default:
			out = appendBound(out, base, nfprotoIPv4, v4)
			out = appendBound(out, base, nfprotoIPv6, v6)
		}
	}
	return out
}

// appendBound appends base restricted to nfp and bound to wan, unless wan is empty.
func appendBound(out []ruleSpec, base ruleSpec, nfp uint8, wan []string) []ruleSpec {
	if len(wan) == 0 {
		return out
	}
	base.nfproto, base.wan = nfp, wan
	return append(out, base)
}

// helperSpecs assign the pptp helper to LAN-originated and router-originated
// TCP 1723 (IPv4 only: the helper exists for IPv4 NAT).
func (c config) helperSpecs() []ruleSpec {
	base := ruleSpec{proto: vpn.PPTP, nfproto: nfprotoIPv4, l4: vpn.ProtoTCP, port: vpn.PortPPTP}
	pre, out := base, base
	pre.kind, pre.lan = kindHelper, c.lan
	out.kind = kindHelperOut
	return []ruleSpec{pre, out}
}

// l4Name spells an IP protocol as nft does: its name, else its number.
func l4Name(p uint8) string {
	switch p {
	case vpn.ProtoTCP, vpn.ProtoUDP, vpn.ProtoGRE, vpn.ProtoESP, vpn.ProtoAH:
		return vpn.L4Name(p)
	}
	return strconv.Itoa(int(p))
}

func nfprotoName(p uint8) string {
	switch p {
	case nfprotoIPv4:
		return "ipv4"
	case nfprotoIPv6:
		return "ipv6"
	}
	return strconv.Itoa(int(p))
}

// ifnameMatch renders `iifname "x"` or `iifname { "x", "y" }`.
func ifnameMatch(key string, names []string) string {
	if len(names) == 1 {
		return key + " " + strconv.Quote(names[0])
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return key + " { " + strings.Join(q, ", ") + " }"
}

// portMatch renders `tcp dport 1723` (dir "dport") or `udp sport 500`.
func portMatch(l4 uint8, dir string, port uint16) string {
	return l4Name(l4) + " " + dir + " " + strconv.Itoa(int(port))
}

// replyStates: GRE of a PPTP call arrives as related (the helper's
// expectation) before it is established; everything else is answered only
// within an established flow.
func (r ruleSpec) replyStates() string {
	if r.l4 == vpn.ProtoGRE && r.proto == vpn.PPTP {
		return "established,related"
	}
	return "established"
}

// chainSpec is a base chain of our table.
type chainSpec struct {
	_    [0]func() // not comparable: no generated equality function (binary size)
	name string
	hook string
	prio int32
}

func (c chainSpec) text() string {
	return "chain " + c.name + " { type filter hook " + c.hook + " priority " + strconv.Itoa(int(c.prio)) + "; policy accept; }"
}

// helperObjectText is our ct helper object in nft syntax.
const helperObjectText = `ct helper ` + HelperObject + ` { type "pptp" protocol tcp; l3proto ip; }`

// ourState is what our own table must hold for a Desired.
type ourState struct {
	helper bool
	chains []chainSpec
	rules  map[string][]ruleSpec // by chain name
}

func (s ourState) empty() bool { return !s.helper && len(s.chains) == 0 }

func (c config) ours(d netfilter.Desired) ourState {
	s := ourState{rules: map[string][]ruleSpec{}}
	if d.Mode(vpn.PPTP) == netfilter.ModeAllow {
		s.helper = true
		h := c.helperSpecs()
		s.rules[chainPrerouting] = h[:1]
		s.rules[chainOutput] = h[1:]
		s.chains = append(s.chains, chainSpec{name: chainPrerouting, hook: "prerouting", prio: prioHelper}, chainSpec{name: chainOutput, hook: "output", prio: prioHelper})
	}
	for _, p := range vpn.Toggled {
		if d.Mode(p) == netfilter.ModeBlock {
			s.rules[chainForward] = append(s.rules[chainForward], c.blockSpecs(p)...)
		}
	}
	if len(s.rules[chainForward]) > 0 {
		s.chains = append(s.chains, chainSpec{name: chainForward, hook: "forward", prio: prioBlock})
	}
	return s
}

// foreignSpecs are the allow rules for a foreign forward chain of family f.
func (c config) foreignSpecs(d netfilter.Desired, f family) []ruleSpec {
	var out []ruleSpec
	for _, p := range vpn.Toggled {
		if d.Mode(p) == netfilter.ModeAllow {
			out = append(out, c.allowSpecs(p, f)...)
		}
	}
	return out
}

// sortedCopy returns names sorted, for canonical forms.
func sortedCopy(names []string) []string {
	out := append([]string(nil), names...)
	sort.StringSlice(out).Sort()
	return out
}
