package netfilter

// EvaluateHook runs p through every base chain on one hook, in priority order,
// as the kernel does: an accept in one base chain only hands the packet to the
// next one; a drop or reject anywhere is final. If an earlier chain was
// uncertain and no later chain is definite, the result is uncertain.
func EvaluateHook(chains []Chain, p Packet) Explanation {
	// A stable insertion sort by priority: a hook has a handful of base
	// chains (and sort.SliceStable needs a closure and reflection).
	sorted := append([]Chain(nil), chains...)
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && sorted[j].Ref().Priority < sorted[j-1].Ref().Priority; j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	out := Explanation{Verdict: Accept}
	var uncertainBy *Decider
	for _, c := range sorted {
		e := c.Evaluate(p)
		AddSteps(&out.Path, e.Path...)
		if e.After != nil {
			p = *e.After // marks set in a mangle chain are seen by the filter chains after it
		}
		out.After = &p
		switch e.Verdict {
		case Drop, Reject:
			out.Verdict, out.DecidedBy = e.Verdict, e.DecidedBy
			return out
		case Uncertain:
			if uncertainBy == nil {
				uncertainBy = e.DecidedBy
				if uncertainBy == nil {
					r := c.Ref()
					uncertainBy = &Decider{Table: r.Table, Chain: r.Name, Backend: r.Backend}
				}
			}
		case Accept:
			// The last accepting chain that names a decider decides (a NAT
			// chain skipped for non-new packets names none), unless
			// something was uncertain. A chain that lets the packet pass by
			// its accept policy changed nothing: a rule's accept in an
			// earlier chain (our `vpnpass:<proto>` in fw4's) still decides.
			if e.DecidedBy != nil && (e.DecidedBy.Policy == "" || out.DecidedBy == nil || out.DecidedBy.Policy != "") {
				out.DecidedBy = e.DecidedBy
			}
		}
	}
	if uncertainBy != nil {
		out.Verdict, out.DecidedBy = Uncertain, uncertainBy
	}
	return out
}
