package ipt

import (
	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/netfilter"
)

// tableSnap is one table's chains as read at one moment, for evaluation.
type tableSnap struct {
	kind   netfilter.Kind
	family string // "iptables" / "ip6tables"
	table  string
	chains map[string]*ChainRules
}

// baseChain is a netfilter.Chain over a snapshot.
type baseChain struct {
	snap *tableSnap
	ref  netfilter.ChainRef
}

var _ netfilter.Chain = (*baseChain)(nil)

func (c *baseChain) Ref() netfilter.ChainRef { return c.ref }

// Evaluate walks the chain as the kernel would for p: jumps, gotos,
// returns, then the policy.
func (c *baseChain) Evaluate(p netfilter.Packet) netfilter.Explanation {
	w := &walker{s: c.snap, p: p}
	o := w.chain(c.ref.Name, 0)
	if !o.ret {
		return netfilter.Explanation{Verdict: o.verdict, DecidedBy: o.dec, Path: w.path}
	}
	v := netfilter.Accept
	if c.snap.chains[c.ref.Name].Policy == "DROP" {
		v = netfilter.Drop
	}
	dec := &netfilter.Decider{Table: c.snap.table, Chain: c.ref.Name, Policy: string(v), Backend: c.snap.kind}
	w.step(c.ref.Name, nil, 0, "policy", v)
	return netfilter.Explanation{Verdict: v, DecidedBy: dec, Path: w.path}
}

// maxDepth bounds nested jumps (iptables-nft accepts loops legacy refuses).
const maxDepth = 64

type walker struct {
	s    *tableSnap
	p    netfilter.Packet
	path []netfilter.Step
}

// outcome of a chain: a verdict, or ret (fell off the end / RETURN).
type outcome struct {
	verdict netfilter.Verdict
	dec     *netfilter.Decider
	ret     bool
}

type targetKind int

const (
	tkContinue targetKind = iota
	tkAccept
	tkDrop
	tkReject
	tkReturn
	tkChain
	tkUnknown
)

// continueTargets never end evaluation and cannot change a later match we
// understand (marks are only matched by modules we report as maybe).
// (A static list, not a map: a map literal is built by init code.)
var continueTargets = [...]string{
	"", "LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "TCPMSS", "CLASSIFY", "DSCP", "TOS", "TRACE",
	"TTL", "HL", "AUDIT", "SECMARK", "CONNSECMARK", "IDLETIMER",
}

// verdictOf is the verdict of the targets ACCEPT, DROP and REJECT, by kind.
var verdictOf = [...]netfilter.Verdict{tkAccept: netfilter.Accept, tkDrop: netfilter.Drop, tkReject: netfilter.Reject}

func (s *tableSnap) targetKind(t string) targetKind {
	for _, c := range continueTargets {
		if c == t {
			return tkContinue
		}
	}
	switch t {
	case "ACCEPT":
		return tkAccept
	case "DROP":
		return tkDrop
	case "REJECT":
		return tkReject
	case "RETURN":
		return tkReturn
	}
	if s.chains[t] != nil {
		return tkChain
	}
	return tkUnknown
}

func (w *walker) chain(name string, depth int) outcome {
	c := w.s.chains[name]
	if c == nil || depth > maxDepth {
		w.step(name, nil, 0, "uncertain", netfilter.Uncertain)
		return outcome{verdict: netfilter.Uncertain, dec: &netfilter.Decider{Table: w.s.table, Chain: name, Backend: w.s.kind}}
	}
	for i, r := range c.Rules {
		m, why := matchRule(r, &w.p)
		if m == no {
			continue
		}
		tk := w.s.targetKind(r.Target)
		if tk == tkContinue {
			if m == yes {
				w.step(name, r, i, "match", "")
			}
			continue
		}
		if m == maybe || tk == tkUnknown {
			if why == "" {
				why = "target " + r.Target
			}
			w.stepWhy(name, r, i, why)
			return outcome{verdict: netfilter.Uncertain, dec: w.decider(name, r, i)}
		}
		switch tk {
		case tkAccept, tkDrop, tkReject:
			v := verdictOf[tk]
			w.step(name, r, i, string(v), v)
			return outcome{verdict: v, dec: w.decider(name, r, i)}
		case tkReturn:
			w.step(name, r, i, "return", "")
			return outcome{ret: true}
		case tkChain:
			effect := "jump"
			if r.Goto {
				effect = "goto"
			}
			w.step(name, r, i, effect, "")
			o := w.chain(r.Target, depth+1)
			if !o.ret {
				return o
			}
			if r.Goto {
				return o // the goto'd chain's end returns from this chain too
			}
		}
	}
	return outcome{ret: true}
}

func (w *walker) decider(chain string, r *Rule, i int) *netfilter.Decider {
	return &netfilter.Decider{Table: w.s.table, Chain: chain, Handle: uint64(i + 1), Comment: r.Comment, Backend: w.s.kind}
}

func (w *walker) step(chain string, r *Rule, i int, effect string, v netfilter.Verdict) {
	s := netfilter.Step{Backend: w.s.kind, Table: w.s.table, Chain: chain, Effect: effect, Verdict: v}
	if r != nil {
		s.Handle, s.Rule, s.Comment = uint64(i+1), r.String(), r.Comment
	}
	netfilter.AddSteps(&w.path, s)
}

func (w *walker) stepWhy(chain string, r *Rule, i int, why string) {
	w.step(chain, r, i, "uncertain", netfilter.Uncertain)
	w.path[len(w.path)-1].Rule += " (cannot evaluate: " + why + ")"
}

// reachable lists the chains reachable from base through jumps and gotos.
func (s *tableSnap) reachable(bases ...string) []string {
	var order []string // also the chains seen: a handful, no map
	queue := append([]string(nil), bases...)
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if contains(order, n) || s.chains[n] == nil {
			continue
		}
		slicex.Strings(&order, n)
		for _, r := range s.chains[n].Rules {
			if s.chains[r.Target] != nil {
				slicex.Strings(&queue, r.Target)
			}
		}
	}
	return order
}
