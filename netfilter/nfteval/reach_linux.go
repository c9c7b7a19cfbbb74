package nfteval

import (
	"github.com/google/nftables/expr"

	"github.com/vpnpass/vpnpass/internal/slicex"
)

// mayReach reports whether an expression pred accepts can be reached from
// chain c by the packet, counting matches we cannot decide as possibly
// taken (an over-approximation, for facts such as "masquerades"). stop is
// true when the packet's walk surely ends inside c.
func (ev *evaluator) mayReach(c *Chain, pred func(expr.Any) bool, depth int) (reach, stop bool) {
	if depth > maxDepth {
		return false, false
	}
	for _, r := range c.Rules {
		hit, res, sure := ev.scan(r, pred)
		if hit {
			return true, false
		}
		switch res.act {
		case actAccept, actDrop, actReject:
			if sure {
				return false, true
			}
		case actReturn:
			if sure {
				return false, false
			}
		case actJump, actGoto:
			target := ev.t.Chain(res.target)
			if target == nil {
				continue
			}
			reach, stop := ev.mayReach(target, pred, depth+1)
			if reach {
				return true, false
			}
			// After a goto the walk goes on in c's caller, not in c.
			if sure && (stop || res.act == actGoto) {
				return false, stop
			}
		}
	}
	return false, false
}

// scan evaluates a rule up to an expression pred accepts (hit), or to its
// outcome; sure is false when a match on the way could not be decided.
func (ev *evaluator) scan(r *Rule, pred func(expr.Any) bool) (hit bool, res result, sure bool) {
	sure = true
	for _, e := range r.Exprs {
		if pred(e) {
			return true, result{}, sure
		}
		s := ev.expr(e)
		switch s.kind {
		case stFalse:
			return false, result{act: actNone}, true
		case stMaybe, stUnknown:
			sure = false
		case stTerminal:
			return false, result{act: s.act, target: s.target}, sure
		}
	}
	return false, result{act: actMatch}, sure
}

// reachability maps each chain to the hooks of the base chains that jump or
// go to it, directly or through other chains (verdict maps included).
func (t *Table) reachability() map[*Chain][]string {
	out := map[*Chain][]string{}
	for _, base := range t.Chains {
		if base.Hook == "" {
			continue
		}
		seen := map[*Chain]bool{}
		queue := []*Chain{base}
		for len(queue) > 0 {
			c := queue[0]
			queue = queue[1:]
			if seen[c] {
				continue
			}
			seen[c] = true
			out[c] = appendOnce(out[c], base.Hook)
			queue = append(queue, t.targets(c)...)
		}
	}
	return out
}

// targets lists the chains a chain's rules can jump or go to.
func (t *Table) targets(c *Chain) []*Chain {
	var out []*Chain
	add := func(v *expr.Verdict) {
		if v != nil && (v.Kind == expr.VerdictJump || v.Kind == expr.VerdictGoto) {
			if tc := t.Chain(v.Chain); tc != nil {
				out = append(out, tc)
			}
		}
	}
	for _, r := range c.Rules {
		for _, e := range r.Exprs {
			switch x := e.(type) {
			case *expr.Verdict:
				add(x)
			case *expr.Lookup:
				if s := t.Set(x.SetName); s != nil && s.IsVerdictMap() {
					for i := range s.Elements {
						add(s.Elements[i].Verdict)
					}
				}
			}
		}
	}
	return out
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	slicex.Strings(&list, s)
	return list
}
