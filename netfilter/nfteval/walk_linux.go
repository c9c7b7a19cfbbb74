package nfteval

import (
	"errors"
	"strconv"
	"strings"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/google/nftables/binaryutil"
	"github.com/vpnpass/vpnpass/netfilter"
)

var _ netfilter.Inspector = (*Ruleset)(nil)
var _ netfilter.Chain = (*Chain)(nil)

// maxDepth is the kernel's jump stack size (NFT_JUMP_STACK_SIZE).
const maxDepth = 16

// Chains returns the base chains on hook that see packets of family, in
// priority order: inet tables for both families, ip for IPv4, ip6 for IPv6.
// Dormant tables and tables iptables-nft manages (XtablesTables) are left
// out. The error is for a hook or family we do not know.
func (rs *Ruleset) Chains(hook string, fam vpn.Family) ([]netfilter.Chain, error) {
	if !contains(ipHooks[:5], hook) { // prerouting .. postrouting
		return nil, errors.New("nftables chains: unknown hook " + strconv.Quote(hook))
	}
	if fam != vpn.IPv4 && fam != vpn.IPv6 {
		return nil, errors.New("nftables chains: unknown family " + strconv.Quote(string(fam)))
	}
	var out []netfilter.Chain
	for _, t := range rs.Tables {
		if t.Xtables || t.Dormant() || !familyApplies(t.Family, fam) {
			continue
		}
		for _, c := range t.Chains {
			if c.Hook != hook {
				continue
			}
			// Insertion in priority order, stable: a handful of chains.
			i := len(out)
			out = append(out, c)
			for ; i > 0 && out[i-1].(*Chain).Priority > c.Priority; i-- {
				out[i] = out[i-1]
			}
			out[i] = c
		}
	}
	return out, nil
}

func familyApplies(tableFam string, fam vpn.Family) bool {
	switch tableFam {
	case "inet":
		return true
	case "ip":
		return fam == vpn.IPv4
	case "ip6":
		return fam == vpn.IPv6
	}
	return false
}

// Ref describes the chain for netfilter.EvaluateHook.
func (c *Chain) Ref() netfilter.ChainRef {
	return netfilter.ChainRef{Backend: c.Table.Kind(), Family: c.Table.Family, Table: c.Table.Name,
		Name: c.Name, Hook: c.Hook, Priority: c.Priority, Policy: c.Policy}
}

// Evaluate runs p through this base chain as the kernel would and explains
// the outcome: Accept lets the packet on to the next base chain, Drop or
// Reject end it, Uncertain names the rule whose effect we cannot know.
func (c *Chain) Evaluate(p netfilter.Packet) netfilter.Explanation {
	t := c.Table
	if c.Hook == "" {
		return netfilter.Explanation{Verdict: netfilter.Uncertain, Path: []netfilter.Step{
			{Backend: t.Kind(), Table: t.Name, Chain: c.Name, Effect: "uncertain", Rule: "not a base chain"}}}
	}
	if !familyApplies(t.Family, p.Family) {
		return netfilter.Explanation{Verdict: netfilter.Accept, Path: []netfilter.Step{}}
	}
	// NAT chains see only a connection's first packet.
	if c.Type == "nat" && p.CtState != "" && strings.TrimSpace(p.CtState) != "new" {
		return netfilter.Explanation{Verdict: netfilter.Accept, Path: []netfilter.Step{}}
	}
	w := &walker{ev: evaluator{t: t, k: newPkt(p, c.Hook, t.ifindex())}, base: c}
	e := w.run()
	e.After = w.after(p)
	return e
}

// after is p as this chain hands it on: with the marks it set, and DNATed
// if a NAT statement of a prerouting NAT chain ran.
func (w *walker) after(p netfilter.Packet) *netfilter.Packet {
	k := w.ev.k
	if !k.markTouched && !k.natted {
		return nil
	}
	out := p
	out.Mark, out.CtMark = knownU32(k.mark), knownU32(k.ctMark)
	if k.natted && w.base.Type == "nat" && w.base.Hook == "prerouting" {
		out.DNAT = netfilter.Bool(true)
	}
	return &out
}

func knownU32(b kbytes) *uint32 {
	if !b.allKnown() || len(b.v) < 4 {
		return nil
	}
	return netfilter.U32(binaryutil.NativeEndian.Uint32(b.v))
}

type frame struct {
	c *Chain
	i int
}

type walker struct {
	ev    evaluator
	base  *Chain
	path  []netfilter.Step
	cur   frame
	stack []frame
	forks int // case splits taken on this path (maxForks)
}

// maxForks bounds the case splits of one evaluation (2^maxForks paths).
const maxForks = 6

func (w *walker) run() netfilter.Explanation {
	w.cur = frame{c: w.base}
	return w.loop()
}

func (w *walker) loop() netfilter.Explanation {
	for {
		if w.cur.i >= len(w.cur.c.Rules) {
			if len(w.stack) == 0 {
				return w.policy()
			}
			w.add(nil, w.cur.c, "return", "", "end of chain")
			w.pop()
			continue
		}
		r := w.cur.c.Rules[w.cur.i]
		w.cur.i++
		if e, done := w.apply(r, w.ev.rule(r)); done {
			return e
		}
	}
}

// apply carries out one rule's result; done is true when the base chain's
// evaluation has ended with e.
func (w *walker) apply(r *Rule, res result) (e netfilter.Explanation, done bool) {
	switch res.act {
	case actMatch:
		w.add(r, w.cur.c, "match", "", "")
	case actAccept, actDrop, actReject:
		v := verdictOf[res.act]
		w.add(r, w.cur.c, string(v), v, "")
		return w.decided(v, r), true
	case actUncertain:
		return w.split(r, res), true
	case actReturn:
		w.add(r, w.cur.c, "return", "", "")
		if len(w.stack) == 0 {
			return w.policy(), true
		}
		w.pop()
	case actJump, actGoto:
		target := w.ev.t.Chain(res.target)
		if target == nil || len(w.stack) >= maxDepth {
			return w.uncertain(r, "cannot follow to chain "+res.target), true
		}
		effect := "jump"
		if res.act == actGoto {
			effect = "goto"
		} else {
			w.stack = append(w.stack, w.cur)
		}
		w.add(r, w.cur.c, effect, "", "")
		w.cur = frame{c: target}
	}
	return netfilter.Explanation{}, false
}

func (w *walker) pop() {
	w.cur, w.stack = w.stack[len(w.stack)-1], w.stack[:len(w.stack)-1]
}

// split decides a rule whose match we cannot know (a limit, an unknown
// field) by following both cases: when the packet's fate is the same
// either way, that is the verdict (named by the case where the rule
// matched); otherwise the rule makes it uncertain.
func (w *walker) split(r *Rule, res result) netfilter.Explanation {
	if res.ifMatched == nil || w.forks >= maxForks {
		return w.uncertain(r, res.why)
	}
	matched, missed := w.clone(), w.clone()
	em, done := matched.apply(r, *res.ifMatched)
	if !done {
		em = matched.loop()
	}
	ex := missed.loop()
	if em.Verdict == netfilter.Uncertain || em.Verdict != ex.Verdict {
		return w.uncertain(r, res.why)
	}
	note := netfilter.Step{Backend: w.base.Table.Kind(), Table: w.base.Table.Name, Chain: r.Chain.Name,
		Handle: r.Handle, Comment: r.Comment, Effect: "match",
		Rule: Summary(r) + " (" + res.why + "; " + string(em.Verdict) + " whether it matches or not)"}
	// The note goes where the split happened; em.Path is the matched
	// clone's own copy, so it is changed in place.
	at := len(w.path)
	netfilter.AddSteps(&em.Path, note)
	copy(em.Path[at+1:], em.Path[at:])
	em.Path[at] = note
	return em
}

// clone copies the walk so far for a case split.
func (w *walker) clone() *walker {
	c := *w
	c.forks++
	c.path = append([]netfilter.Step(nil), w.path...)
	c.stack = append([]frame(nil), w.stack...)
	k := *w.ev.k
	k.nh, k.th = k.nh.clone(), k.th.clone()
	c.ev.k = new(pkt)
	*c.ev.k = k // one copy: field stores into the heap take write barriers
	return &c
}

var verdictOf = [...]netfilter.Verdict{actAccept: netfilter.Accept, actDrop: netfilter.Drop, actReject: netfilter.Reject}

// add records a step; r is nil for an implicit return at a chain's end.
func (w *walker) add(r *Rule, c *Chain, effect string, v netfilter.Verdict, note string) {
	s := netfilter.Step{Backend: c.Table.Kind(), Table: c.Table.Name, Chain: c.Name, Effect: effect, Verdict: v}
	if r != nil {
		s.Handle, s.Comment, s.Rule = r.Handle, r.Comment, Summary(r)
	}
	if note != "" {
		if s.Rule != "" {
			s.Rule += " "
		}
		s.Rule += "(" + note + ")"
	}
	netfilter.AddSteps(&w.path, s)
}

func (w *walker) decided(v netfilter.Verdict, r *Rule) netfilter.Explanation {
	t := r.Chain.Table
	return netfilter.Explanation{Verdict: v, Path: w.path, DecidedBy: &netfilter.Decider{
		Table: t.Name, Chain: r.Chain.Name, Handle: r.Handle, Comment: r.Comment, Backend: t.Kind()}}
}

func (w *walker) uncertain(r *Rule, why string) netfilter.Explanation {
	w.add(r, r.Chain, "uncertain", netfilter.Uncertain, why)
	return w.decided(netfilter.Uncertain, r)
}

func (w *walker) policy() netfilter.Explanation {
	c, t := w.base, w.base.Table
	netfilter.AddSteps(&w.path, netfilter.Step{Backend: t.Kind(), Table: t.Name, Chain: c.Name,
		Rule: "policy " + string(c.Policy), Effect: "policy", Verdict: c.Policy})
	return netfilter.Explanation{Verdict: c.Policy, Path: w.path, DecidedBy: &netfilter.Decider{
		Table: t.Name, Chain: c.Name, Policy: string(c.Policy), Backend: t.Kind()}}
}
