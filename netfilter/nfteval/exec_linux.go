package nfteval

import (
	"github.com/vpnpass/vpnpass/netfilter/nftwire"

	"strconv"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
)

// action is what a rule does to the packet, as far as we can tell.
type action int

const (
	actNone      action = iota // no match (or a doubtful match with no effect on the verdict)
	actMatch                   // matched; side effects only (counter, log, ct helper set)
	actAccept                  // accept (also NAT statements, which accept in their chain)
	actDrop                    //
	actReject                  //
	actJump                    //
	actGoto                    //
	actReturn                  //
	actUncertain               // the outcome depends on something we cannot evaluate
)

// result of one rule.
type result struct {
	_      noCompare
	act    action
	target string // jump/goto
	why    string // actUncertain
	// ifMatched is what the rule does if its undecided condition holds
	// (actUncertain from a doubt, not from an expression we cannot
	// evaluate): the walker may follow both cases.
	ifMatched *result
}

// noCompare, as a struct's first field, makes the struct not comparable, so
// the compiler emits no equality function for it (~250 bytes of code each).
type noCompare [0]func()

// stepKind is what one expression does to the rule's evaluation.
type stepKind int

const (
	stCont     stepKind = iota // go on with the next expression
	stFalse                    // the rule does not match (NFT_BREAK)
	stMaybe                    // a condition we cannot decide; go on as if it held
	stTerminal                 // a verdict
	stUnknown                  // an expression whose effect we cannot know
)

type step struct {
	kind   stepKind
	act    action // stTerminal
	target string // stTerminal: jump/goto
	why    string // stMaybe, stUnknown
}

var cont = step{}

// evaluator runs rules of one table over one packet; regs persist across
// the rules and chains of one base chain, as in nft_do_chain.
type evaluator struct {
	t    *Table
	k    *pkt
	regs regFile
	// src remembers which expression last loaded each 32-bit register, to
	// say what an undecidable comparison depended on.
	src [regBytes / 4]expr.Any
	// nat is the last NAT statement reached, with its target; helpers the
	// ct helper objects assigned on the way (inbound_linux.go).
	nat     *natSeen
	helpers []string
	// doubtful is set while the current rule has met a condition we
	// cannot decide: its side effects may or may not happen.
	doubtful bool
}

// rule evaluates one rule. A doubtful condition (stMaybe) is carried on: if
// a later condition fails for sure, the rule does not match whatever the
// doubt; if the rule then reaches a verdict, the outcome is uncertain; if it
// ends with side effects only, the doubt does not matter.
func (ev *evaluator) rule(r *Rule) result {
	doubt := ""
	ev.doubtful = false
	for _, e := range r.Exprs {
		s := ev.expr(e)
		switch s.kind {
		case stFalse:
			return result{act: actNone}
		case stMaybe:
			ev.doubtful = true
			if doubt == "" {
				doubt = s.why
			}
		case stTerminal:
			res := result{act: s.act, target: s.target}
			if doubt != "" {
				return result{act: actUncertain, why: doubt, ifMatched: &res}
			}
			return res
		case stUnknown:
			return result{act: actUncertain, why: s.why}
		}
	}
	if doubt != "" {
		return result{act: actNone}
	}
	return result{act: actMatch}
}

func (ev *evaluator) expr(e expr.Any) step {
	switch x := e.(type) {
	case *expr.Meta, *expr.Payload, *expr.Ct, *expr.Bitwise, *expr.Byteorder, *expr.Immediate,
		*expr.Numgen, *expr.Hash, *expr.Fib, *expr.Rt, *expr.Socket, *expr.Exthdr:
		ev.load(e)
		return cont
	case *expr.Cmp:
		return ev.cond(x.Register, cmpTri(x.Op, ev.regs.read(x.Register, len(x.Data)), x.Data))
	case *expr.Range:
		in := ev.regs.read(x.Register, len(x.FromData)).inRange(x.FromData, x.ToData)
		if x.Op == expr.CmpOpNeq {
			in = in.not()
		}
		return ev.cond(x.Register, in)
	case *expr.Lookup:
		return ev.lookup(x)
	case *expr.Verdict:
		return verdictStep(x)
	}
	return ev.statement(e)
}

// statement handles expressions that neither load nor compare.
func (ev *evaluator) statement(e expr.Any) step {
	switch x := e.(type) {
	case *expr.Reject:
		if ev.k.ipv6AHTunnel {
			// nf_send_unreach6 first verifies the payload's checksum as if
			// it were the protocol AH carries; a tunnel's inner IPv6 packet
			// has none, so the verification fails and nothing is sent.
			return step{kind: stTerminal, act: actDrop}
		}
		return step{kind: stTerminal, act: actReject}
	case *expr.Masq, *expr.NAT, *expr.Redir:
		// nft_nat_eval sets the verdict to NF_ACCEPT.
		ev.noteNAT(e)
		ev.k.natted = true
		return step{kind: stTerminal, act: actAccept}
	case *expr.Counter, *expr.Log, *expr.Notrack, *expr.Dup, *expr.FlowOffload:
		return cont
	case *expr.Limit:
		return step{kind: stMaybe, why: "limit depends on the packet rate"}
	case *expr.Quota:
		return step{kind: stMaybe, why: "quota depends on the traffic so far"}
	case *expr.Connlimit:
		return step{kind: stMaybe, why: "ct count depends on the connections open"}
	case *expr.Dynset:
		if len(x.Exprs) > 0 {
			return step{kind: stMaybe, why: "set update with a stateful expression"}
		}
		return cont
	case *expr.Objref:
		ev.noteObj(x)
		return objrefStep(x)
	case *nftwire.Opaque:
		if x.Dreg != 0 {
			ev.put(x.Dreg, e, &kval{}, false, true)
			return cont
		}
		if x.Name == "last" {
			return cont
		}
		return step{kind: stUnknown, why: "expression " + x.Name + " is not decoded"}
	}
	return step{kind: stUnknown, why: "expression " + exprName(e) + " is not evaluated"}
}

// load runs an expression that writes a register.
func (ev *evaluator) load(e expr.Any) {
	switch x := e.(type) {
	case *expr.Meta:
		if x.SourceRegister {
			if x.Key == expr.MetaKeyMARK {
				ev.setMark(&ev.k.mark, x.Register)
			}
			return // other meta set: a side effect we need not follow
		}
		v, ok := ev.k.meta(x.Key)
		ev.put(x.Register, e, v, ok, true)
	case *expr.Payload:
		if x.OperationType == expr.PayloadWrite {
			ev.k.forget(x)
			return
		}
		v, ok := ev.k.payload(x)
		ev.put(x.DestRegister, e, v, ok, true)
	case *expr.Ct:
		if x.SourceRegister {
			if x.Key == expr.CtKeyMARK {
				ev.setMark(&ev.k.ctMark, x.Register)
			}
			return // other ct set: a side effect we need not follow
		}
		v, ok := ev.k.ct(x)
		ev.put(x.Register, e, v, ok, true)
	case *expr.Bitwise:
		ev.put(x.DestRegister, ev.src1(x.SourceRegister), bitwise(ev.regs.read(x.SourceRegister, int(x.Len)), x.Mask, x.Xor), true, false)
	case *expr.Byteorder:
		ev.put(x.DestRegister, ev.src1(x.SourceRegister), swapChunks(ev.regs.read(x.SourceRegister, int(x.Len)), int(x.Size), bigEndianHost), true, false)
	case *expr.Immediate:
		ev.put(x.Register, e, knownBytes(x.Data), true, true)
	default:
		ev.put(loadReg(e), e, &kval{}, false, true)
	}
}

// setMark runs `meta mark set` or `ct mark set`: the mark takes the
// register's value, or, in a rule that may not have matched, keeps only
// the bytes that are the same either way.
func (ev *evaluator) setMark(mark *kbytes, reg uint32) {
	v := ev.regs.read(reg, 4)
	out := v.clone()
	if old := *mark; ev.doubtful {
		for i := range out.v {
			out.known[i] = out.known[i] && old.known[i] && old.v[i] == out.v[i]
		}
	}
	*mark = out
	ev.k.markTouched = true
}

// put writes a register, or forgets it when the value is unknown.
func (ev *evaluator) put(reg uint32, src expr.Any, v kbytes, ok, pad bool) {
	if !ok {
		ev.regs.taint(reg, 0)
	} else {
		ev.regs.load(reg, v, pad)
	}
	if off, valid := regOffset(reg); valid {
		ev.src[off/4] = src
	}
}

func (ev *evaluator) src1(reg uint32) expr.Any {
	if off, ok := regOffset(reg); ok {
		return ev.src[off/4]
	}
	return nil
}

// loadReg is the destination of loads whose value we never know.
func loadReg(e expr.Any) uint32 {
	switch x := e.(type) {
	case *expr.Numgen:
		return x.Register
	case *expr.Hash:
		return x.DestRegister
	case *expr.Fib:
		return x.Register
	case *expr.Rt:
		return x.Register
	case *expr.Socket:
		return x.Register
	case *expr.Exthdr:
		return x.DestRegister
	}
	return 0
}

var bigEndianHost = binaryutil.NativeEndian.PutUint16(1)[0] == 0

// cond turns a comparison's truth into a step, naming what an undecidable
// one depended on.
func (ev *evaluator) cond(reg uint32, t tri) step {
	switch t {
	case no:
		return step{kind: stFalse}
	case maybe:
		return step{kind: stMaybe, why: ev.unknownWhy(reg)}
	}
	return cont
}

func (ev *evaluator) unknownWhy(reg uint32) string {
	if src := ev.src1(reg); src != nil {
		return loadName(src, ev.k.nfproto, ev.k.l4.v[0]) + " is not known for this packet"
	}
	return "a value not known for this packet"
}

// cmpTri applies a cmp operator (memcmp semantics over len(data) bytes).
func cmpTri(op expr.CmpOp, v kbytes, data []byte) tri {
	switch op {
	case expr.CmpOpEq:
		return v.eq(data)
	case expr.CmpOpNeq:
		return v.eq(data).not()
	}
	sign, sure := v.order(data)
	if !sure {
		return maybe
	}
	switch op {
	case expr.CmpOpLt:
		return triOf(sign < 0)
	case expr.CmpOpLte:
		return triOf(sign <= 0)
	case expr.CmpOpGt:
		return triOf(sign > 0)
	case expr.CmpOpGte:
		return triOf(sign >= 0)
	}
	return maybe
}

// lookup runs a set, map or verdict map lookup.
func (ev *evaluator) lookup(x *expr.Lookup) step {
	set := ev.t.Set(x.SetName)
	if set == nil {
		return step{kind: stUnknown, why: "set " + x.SetName + " not found"}
	}
	found, el := set.match(ev.regs.read(x.SourceRegister, int(set.KeyLen)))
	if x.Invert {
		found, el = found.not(), nil
	}
	if found == no {
		return step{kind: stFalse}
	}
	why := ev.unknownWhy(x.SourceRegister)
	switch {
	case !x.IsDestRegSet:
		return ev.cond(x.SourceRegister, found)
	case x.DestRegister == 0: // verdict map
		if found == maybe || el.Verdict == nil {
			return step{kind: stUnknown, why: why}
		}
		return verdictStep(el.Verdict)
	case found == maybe:
		ev.regs.taint(x.DestRegister, int(set.DataLen))
		return step{kind: stMaybe, why: why}
	}
	ev.put(x.DestRegister, x, knownBytes(el.Data), true, true)
	return cont
}

func verdictStep(v *expr.Verdict) step {
	switch v.Kind {
	case expr.VerdictContinue:
		return cont
	case expr.VerdictBreak:
		return step{kind: stFalse}
	}
	if i := v.Kind - expr.VerdictReturn; i >= 0 && i < expr.VerdictKind(len(verdictActs)) && verdictActs[i] != actNone {
		return step{kind: stTerminal, act: verdictActs[i], target: v.Chain}
	}
	return step{kind: stUnknown, why: "verdict " + strconv.FormatInt(int64(v.Kind), 10) + " (queue, stolen, ...) is not evaluated"}
}

// verdictActs maps verdict kinds from VerdictReturn (-5) on to actions.
var verdictActs = [...]action{expr.VerdictReturn - expr.VerdictReturn: actReturn,
	expr.VerdictGoto - expr.VerdictReturn: actGoto, expr.VerdictJump - expr.VerdictReturn: actJump,
	expr.VerdictDrop - expr.VerdictReturn: actDrop, expr.VerdictAccept - expr.VerdictReturn: actAccept}

// objrefStep: named counters and ct helper/timeout/expectation/secmark
// assignments are side effects; named limits, quotas and connlimits are
// conditions we cannot decide.
func objrefStep(x *expr.Objref) step {
	switch x.Type {
	case 1, 3, 7, 8, 9: // counter, ct helper, ct timeout, secmark, ct expectation
		return cont
	case 2, 4, 5: // quota, limit, connlimit
		return step{kind: stMaybe, why: "named " + objTypeName(x.Type) + " " + x.Name + " depends on traffic"}
	}
	return step{kind: stUnknown, why: "object " + objTypeName(x.Type) + " " + x.Name + " is not evaluated"}
}

func objTypeName(t int) string {
	if n := nameOr(uint64(t), objTypeNames, ""); n != "" {
		return n
	}
	return "object type " + strconv.Itoa(t)
}
