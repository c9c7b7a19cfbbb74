package ipt

import (
	"errors"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/vpnpass/vpnpass/internal/slicex"
)

// Rule is one `iptables -S` line (`-A chain spec...`) parsed into the parts
// this package understands. Whatever it does not understand is kept in the
// matches (unknown modules/options), so evaluation can say Uncertain.
type Rule struct {
	Chain string
	// Args is the spec as printed, unquoted, without "-A chain" and without
	// counters: exactly what `iptables -D chain Args...` accepts.
	Args []string

	Src, Dst addrMatch
	In, Out  ifMatch
	Proto    protoMatch
	Frag     *bool // -f (true) / ! -f (false); nil when absent
	Matches  []match
	Comment  string

	Target     string   // -j or -g target, "" for none
	TargetArgs []string // options of the target (e.g. --helper pptp)
	Goto       bool
	// Bad is set when the line could not be parsed; such a rule always
	// evaluates Uncertain.
	Bad string
}

type addrMatch struct {
	_      [0]func()
	Set    bool
	Neg    bool
	Prefix netip.Prefix
}

type ifMatch struct {
	_    [0]func()
	Set  bool
	Neg  bool
	Name string // may end in '+' (any interface with that prefix)
}

type protoMatch struct {
	_   [0]func()
	Set bool
	Neg bool
	Num int // 0 = all; -1 = a name we do not know
	Raw string
}

// match is one -m module with its options.
type match struct {
	Module string
	Opts   []option
}

type option struct {
	Neg  bool
	Name string // without the leading "--"
	Vals []string
}

// Key is a canonical form of the rule for comparing what we want with what
// is installed: protocol names become numbers, state lists are sorted.
func (r *Rule) Key() string {
	var b strings.Builder
	b.WriteString(r.Chain)
	if r.Src.Set {
		keyPart(&b, r.Src.Neg, "-s", r.Src.Prefix.String())
	}
	if r.Dst.Set {
		keyPart(&b, r.Dst.Neg, "-d", r.Dst.Prefix.String())
	}
	if r.In.Set {
		keyPart(&b, r.In.Neg, "-i", r.In.Name)
	}
	if r.Out.Set {
		keyPart(&b, r.Out.Neg, "-o", r.Out.Name)
	}
	if r.Proto.Set {
		keyPart(&b, r.Proto.Neg, "-p", strconv.Itoa(r.Proto.Num)+"/"+protoKeyRaw(r.Proto))
	}
	if r.Frag != nil {
		keyPart(&b, !*r.Frag, "-f", "")
	}
	for _, m := range r.Matches {
		b.WriteString(" -m ")
		b.WriteString(m.Module)
		for _, o := range m.Opts {
			vals := o.Vals
			if o.Name == "ctstate" || o.Name == "state" {
				vals = sortedList(vals)
			}
			keyPart(&b, o.Neg, "--"+o.Name, strings.Join(vals, " "))
		}
	}
	switch {
	case r.Goto:
		b.WriteString(" -g ")
	case r.Target != "":
		b.WriteString(" -j ")
	}
	b.WriteString(r.Target)
	for _, a := range r.TargetArgs {
		b.WriteByte(' ')
		b.WriteString(a)
	}
	return b.String()
}

// keyPart writes " [! ]name v" to a key.
func keyPart(b *strings.Builder, neg bool, name, v string) {
	b.WriteByte(' ')
	if neg {
		b.WriteString("! ")
	}
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(v)
}

func protoKeyRaw(p protoMatch) string {
	if p.Num >= 0 {
		return ""
	}
	return p.Raw
}

func sortedList(vals []string) []string {
	if len(vals) != 1 {
		return vals
	}
	parts := strings.Split(vals[0], ",")
	sort.StringSlice(parts).Sort()
	return []string{strings.Join(parts, ",")}
}

// String renders the rule as `-A chain spec` for plans and explanations.
func (r *Rule) String() string {
	return "-A " + r.Chain + " " + joinArgs(r.Args)
}

// joinArgs renders words as iptables -S does: comments always in double
// quotes, other words only when they hold blanks or quotes.
func joinArgs(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if (i > 0 && args[i-1] == "--comment") || a == "" || strings.ContainsAny(a, " \t\"\\'") {
			// Backslashes first, so the quotes' escapes stay single. (Not
			// strings.NewReplacer: its machinery costs ~18 KiB on mips.)
			a = `"` + strings.ReplaceAll(strings.ReplaceAll(a, `\`, `\\`), `"`, `\"`) + `"`
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

// protoNumbers are the protocol names iptables prints (its own table, plus
// /etc/protocols names for the ones we meet).
// A static table, not a map: a map literal is built by init code.
var protoNumbers = [...]struct {
	name string
	num  uint8
}{
	{"all", 0}, {"icmp", 1}, {"igmp", 2}, {"ipip", 4}, {"tcp", 6}, {"egp", 8}, {"udp", 17},
	{"ipv6", 41}, {"ipv6-route", 43}, {"ipv6-frag", 44}, {"gre", 47}, {"esp", 50}, {"ah", 51},
	{"icmpv6", 58}, {"ipv6-icmp", 58}, {"ipv6-nonxt", 59}, {"ipv6-opts", 60},
	{"ospf", 89}, {"pim", 103}, {"vrrp", 112}, {"l2tp", 115}, {"sctp", 132},
	{"mh", 135}, {"ipv6-mh", 135}, {"udplite", 136},
}

func parseProto(s string) int {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 255 {
		return n
	}
	s = strings.ToLower(s)
	for _, p := range protoNumbers {
		if p.name == s {
			return int(p.num)
		}
	}
	return -1
}

// tokenize splits one -S line into words, honouring the double quotes (with
// backslash escapes) that iptables puts around comments and other strings.
func tokenize(line string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord, inQuote := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case inQuote && c == '"':
			inQuote = false
		case c == '"':
			inQuote, inWord = true, true
		case !inQuote && (c == ' ' || c == '\t'):
			if inWord {
				slicex.Strings(&out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inQuote {
		return nil, errors.New("unterminated quote in " + strconv.Quote(line))
	}
	if inWord {
		slicex.Strings(&out, cur.String())
	}
	return out, nil
}
