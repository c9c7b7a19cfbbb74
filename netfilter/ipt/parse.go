package ipt

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/netfilter"
)

// ChainRules is one chain as `iptables -t T -S C` lists it.
type ChainRules struct {
	Name string
	// Policy is ACCEPT or DROP for a built-in chain, "" for a user chain.
	Policy string
	Rules  []*Rule
}

// parseChain parses the lines Tool.List returns for one chain: a
// "-P name POLICY" or "-N name" line, then "-A name ..." lines.
func parseChain(name string, lines []string) (*ChainRules, error) {
	c := &ChainRules{Name: name}
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		toks, err := tokenize(l)
		if err != nil {
			return nil, netfilter.Wrap("chain "+name, err)
		}
		switch {
		case len(toks) == 3 && toks[0] == "-P":
			c.Policy = toks[2]
		case len(toks) == 2 && toks[0] == "-N":
		case len(toks) >= 2 && toks[0] == "-A":
			c.Rules = append(c.Rules, parseRule(toks[1], toks[2:]))
		default:
			return nil, errors.New("chain " + name + ": unexpected line " + strconv.Quote(l))
		}
	}
	return c, nil
}

// Flags of a rule spec parseRule knows, by kind.
const (
	flSrc = iota
	flDst
	flIn
	flOut
	flProto
	flMatch
	flJump
	flGoto
	flFrag // the only one without a value
)

// ruleFlags spell each kind short and long (a table, not a string switch
// per case: one lookup loop is less code).
var ruleFlags = [...]struct {
	name string
	kind uint8
}{
	{"-s", flSrc}, {"--source", flSrc}, {"-d", flDst}, {"--destination", flDst},
	{"-i", flIn}, {"--in-interface", flIn}, {"-o", flOut}, {"--out-interface", flOut},
	{"-p", flProto}, {"--protocol", flProto}, {"-m", flMatch}, {"--match", flMatch},
	{"-j", flJump}, {"--jump", flJump}, {"-g", flGoto}, {"--goto", flGoto},
	{"-f", flFrag}, {"--fragment", flFrag},
}

// flagKind returns the kind of a rule flag, -1 for any other word.
func flagKind(t string) int {
	for _, f := range ruleFlags {
		if f.name == t {
			return int(f.kind)
		}
	}
	return -1
}

// parseRule parses the spec of one rule (the words after "-A chain").
// Args gets every word read, so a Bad rule keeps the words up to the bad one.
func parseRule(chain string, toks []string) *Rule {
	r := &Rule{Chain: chain}
	var cur *match
	neg := false
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t == "-c" && i+2 < len(toks) { // counters: not part of the spec
			i += 2
			continue
		}
		slicex.Strings(&r.Args, t)
		if t == "!" {
			neg = true
			continue
		}
		k := flagKind(t)
		switch {
		case k == flFrag:
			f := !neg
			r.Frag = &f
		case k < 0: // a match option: --name and its values
			if !strings.HasPrefix(t, "--") || cur == nil {
				r.Bad = "unexpected word " + t
				return r
			}
			o := option{Neg: neg, Name: t[2:]}
			j := i + 1
			for j < len(toks) && !isFlag(toks[j]) {
				j++
			}
			if j > i+1 {
				o.Vals = toks[i+1 : j : j]
				slicex.Strings(&r.Args, o.Vals...)
			}
			i = j - 1
			cur.Opts = append(cur.Opts, o)
			if cur.Module == "comment" && o.Name == "comment" && len(o.Vals) == 1 {
				r.Comment = o.Vals[0]
			}
		case i+1 >= len(toks):
			r.Bad = "missing value after " + t
			return r
		default:
			i++
			v := toks[i]
			slicex.Strings(&r.Args, v)
			if k >= flJump { // -j / -g: the rest is the target's
				r.Target, r.Goto = v, k == flGoto
				r.TargetArgs = targetArgs(toks[i+1:])
				slicex.Strings(&r.Args, r.TargetArgs...)
				return r
			}
			cur = r.setFlag(k, v, neg, cur)
		}
		neg = false
	}
	return r
}

// setFlag records the value v of a flag of kind k (-s -d -i -o -p -m) and
// returns the current match (a new one after -m).
func (r *Rule) setFlag(k int, v string, neg bool, cur *match) *match {
	switch k {
	case flSrc, flDst:
		a := parseAddr(v, neg)
		if !a.Set {
			r.Bad = "address " + v
		}
		if k == flSrc {
			r.Src = a
		} else {
			r.Dst = a
		}
	case flIn:
		r.In = ifMatch{Set: true, Neg: neg, Name: v}
	case flOut:
		r.Out = ifMatch{Set: true, Neg: neg, Name: v}
	case flProto:
		r.Proto = protoMatch{Set: true, Neg: neg, Num: parseProto(v), Raw: v}
	default: // -m
		r.Matches = append(r.Matches, match{Module: v})
		return &r.Matches[len(r.Matches)-1]
	}
	return cur
}

// targetArgs returns the target's options, without trailing counters.
func targetArgs(toks []string) []string {
	var out []string
	for i := 0; i < len(toks); i++ {
		if toks[i] == "-c" && i+2 < len(toks) {
			i += 2
			continue
		}
		slicex.Strings(&out, toks[i])
	}
	return out
}

// isFlag tells an option name ("-x", "--xx", "!") from a value.
func isFlag(s string) bool {
	if s == "!" {
		return true
	}
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	// Negative numbers are values.
	return !(s[1] >= '0' && s[1] <= '9')
}

func parseAddr(v string, neg bool) addrMatch {
	if p, err := netip.ParsePrefix(v); err == nil {
		return addrMatch{Set: true, Neg: neg, Prefix: p.Masked()}
	}
	if a, err := netip.ParseAddr(v); err == nil {
		return addrMatch{Set: true, Neg: neg, Prefix: netip.PrefixFrom(a, a.BitLen())}
	}
	if i := strings.IndexByte(v, '/'); i > 0 { // dotted mask: 10.0.0.0/255.0.0.0
		a, err1 := netip.ParseAddr(v[:i])
		m, err2 := netip.ParseAddr(v[i+1:])
		if err1 == nil && err2 == nil {
			if bits, ok := maskBits(m); ok {
				return addrMatch{Set: true, Neg: neg, Prefix: netip.PrefixFrom(a, bits).Masked()}
			}
		}
	}
	return addrMatch{}
}

// maskBits returns the prefix length of a contiguous mask.
func maskBits(m netip.Addr) (int, bool) {
	bits, done := 0, false
	for _, b := range m.AsSlice() {
		for i := 7; i >= 0; i-- {
			one := b&(1<<i) != 0
			if one && done {
				return 0, false
			}
			if one {
				bits++
			} else {
				done = true
			}
		}
	}
	return bits, true
}
