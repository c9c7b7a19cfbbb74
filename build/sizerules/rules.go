// Package sizerules is the one list of what the release binary must not
// link, with why and what it cost when it was linked. A router has 16 MB of
// flash or less; every rule below was paid for once and measured on
// linux/mips softfloat. `make test` fails when one is broken
// (sizerules_test.go); test/testdata/sizereport prints the same table for a
// binary.
package sizerules

import (
	"debug/elf"
	"fmt"
	"strings"
)

// Rule forbids a package (Package, matched as an import path or, ending in
// "/", as a prefix) or a stretch of linked code (Symbol, a symbol-name
// prefix: some costs come from one function of an allowed package).
type Rule struct {
	Package string
	Symbol  string
	Why     string // what it is and what usually links it
	Cost    string // measured on linux/mips softfloat when it was removed
	Fix     string // what to use instead
}

// Rules: costs are "content" bytes (section bytes) unless said otherwise.
var Rules = []Rule{
	{Package: "flag", Why: "the flag package (its usage printer and generic sort are always linked)",
		Cost: "33,293 B", Fix: "agent/cli's small flag parser"},
	{Package: "math/big", Symbol: "math/big.", Why: "math/big", Cost: "~90 KB",
		Fix: "print and compare numbers with uint64 arithmetic (netfilter/nfteval/format_linux.go)"},
	{Package: "crypto/", Symbol: "crypto/internal/fips140", Why: "any crypto/* package links Go's FIPS 140 module",
		Cost: "141,940 B (196,608 B stripped)", Fix: "agent/probe/sha1.go for IKE NAT detection; compare texts, not hashes"},
	{Package: "net/http", Why: "net/http with crypto/tls", Cost: "4.85 MB in isolation (a hello-world grows from 1.64 to 6.49 MB)",
		Fix: "agent/wan/igd's small HTTP/1.1 client"},
	{Package: "encoding/xml", Why: "encoding/xml", Cost: "393 KB in isolation",
		Fix: "agent/wan/igd/xml.go's element scanner"},
	{Package: "hash/crc32", Why: "hash/crc32's tables and per-arch code", Cost: "6,013 B",
		Fix: "a bitwise CRC-32 (agent/wan/stun)"},
	{Symbol: "net.(*Resolver).", Why: "Go's DNS resolver (net.Dial/Dialer/Listen with string addresses)",
		Cost: "~220 KB", Fix: "typed dials (net.DialUDP/DialTCP with addresses) or agent/wan/netx"},
	{Symbol: "net.(*netFD).", Why: "net's socket machinery (net.Dial*/Listen*, TCPConn/UDPConn/UnixConn, sendfile/splice)",
		Cost: "~160 KB with the interface tables", Fix: "internal/sock (unix socket, UDP, TCP connect over x/sys/unix and the poller)"},
	{Symbol: "net.interfaceTable", Why: "net's interface tables (net.Interfaces, InterfaceByName, Interface.Addrs)",
		Cost: "counted with net's sockets", Fix: "internal/sock.Links (one rtnetlink dump of links and addresses)"},
	{Symbol: "slices.pdqsortOrdered[go.shape.string]", Why: "the generic string sort (sort.Strings, slices.Sort, filepath.Glob)",
		Cost: "~12 KB", Fix: "sort.Sort(sort.StringSlice(s))"},
	{Symbol: "strings.(*Replacer).", Why: "strings.NewReplacer's machinery", Cost: "19,492 B",
		Fix: "strings.ReplaceAll"},
	{Symbol: "path/filepath.walkDir", Why: "filepath.WalkDir (sorts every directory)", Cost: "18,174 B",
		Fix: "an unsorted os.ReadDir walk (helpers/helpers.go)"},
	{Package: "regexp", Why: "regexp (go-iptables compiled two at package init, run on every start)",
		Cost: "272,902 B with go-iptables (262,144 B stripped)", Fix: "netfilter/ipt.Tool and string functions"},
	{Package: "encoding/json", Why: "encoding/json (log/slog links its encoder too)",
		Cost: "204,958 B net of internal/jsonx, with log/slog 327,680 B stripped", Fix: "internal/jsonx (same names: import it as json)"},
	{Package: "log/slog", Why: "log/slog (its JSON handler keeps encoding/json linked)",
		Cost: "~100 KB with its buffer and Value machinery", Fix: "agent/logx (slog's call shape and TextHandler records)"},
	{Symbol: "golang.org/x/net/bpf.", Why: "x/net/bpf's instruction types and assembler (netlink's SetBPF needs only its RawInstruction type)",
		Cost: "25,244 B", Fix: "kernel opcodes from x/sys/unix (conntrack/bpf_linux.go)"},
	{Symbol: "time.parse", Why: "time's layout parser (time.Parse, and Time.UnmarshalJSON/UnmarshalText once any interface call names them)",
		Cost: "26,794 B with ParseDuration", Fix: "internal/tstamp; internal/jsonx decodes time.Time itself and calls no UnmarshalText/UnmarshalJSON"},
	{Symbol: "time.Parse", Why: "time.Parse and time.ParseDuration", Cost: "(with time.parse)", Fix: "internal/tstamp"},
	{Symbol: "errors.As", Why: "errors.As (its target check links internal/reflectlite's Implements/AssignableTo)",
		Cost: "17,137 B", Fix: "internal/errx.As"},
	{Package: "encoding/base64", Why: "encoding/base64 (four encodings and their decode maps built at start-up)",
		Cost: "7,568 B", Fix: "internal/jsonx/base64.go"},
	{Symbol: "internal/reflectlite.Swapper", Why: "sort.Slice/SliceStable (reflectlite's Swapper and sort's func-based copy)",
		Cost: "5,278 B with filepath.Match", Fix: "internal/sortx.Sort/Stable"},
	{Symbol: "path/filepath.Match", Why: "filepath.Match (and Glob)", Cost: "with sort.Slice above", Fix: "strings.CutPrefix/Contains for a fixed pattern"},
	{Symbol: "reflect.StructTag.", Why: "StructTag.Get/Lookup (strconv.Unquote with it)", Cost: "7,045 B", Fix: "jsonx.Tag"},
	{Symbol: "strconv.ParseFloat", Why: "strconv.ParseFloat and its parser (hex floats, Eisel-Lemire for two sizes, the decimal fallback; formatting stays in the floor)",
		Cost: "21,005 B (15,816 B net of jsonx's own)", Fix: "internal/jsonx/atof.go (the decimal algorithm only)"},
	{Symbol: "bufio.", Why: "bufio (Reader, Writer and Scanner with their error values; nothing else we link uses it)",
		Cost: "~10 KB (Scanner 2,800 B; Reader and the rest 7,196 B: 4,216 B of .text net of lines.Reader)", Fix: "internal/lines.Each, lines.Reader"},
	{Symbol: "os/signal.NotifyContext", Why: "signal.NotifyContext (its context type and String method)",
		Cost: "7,596 B", Fix: "signal.Notify with a channel (cmd/vpnpass)"},
	{Package: "github.com/ti-mo/", Why: "ti-mo/conntrack and ti-mo/netfilter (with github.com/pkg/errors): a decoder and encoder for every conntrack attribute, copying each",
		Cost: "60,419 B", Fix: "conntrack's own decoder and requests (conntrack/decode_linux.go, query_linux.go) on mdlayher/netlink"},
	{Symbol: "github.com/ti-mo/conntrack.Flow.marshal", Why: "ti-mo/conntrack's Conn.Get/Delete/Create/Update (marshal every field a flow can carry)",
		Cost: "29,084 B", Fix: "conntrack/query_linux.go's entry request (original tuple and zone)"},
	{Symbol: "github.com/google/nftables.(*Monitor).", Why: "google/nftables' Monitor (decodes every object of every event)",
		Cost: "17,300 B", Fix: "nft.WatchRuleset (reads the nftables group's message types)"},
	{Symbol: "github.com/google/nftables.setsFromMsg", Why: "google/nftables' GetSets/GetSetByName (its whole set decoder)",
		Cost: "11,717 B", Fix: "nft.SetNames, nft.ReadSetElements"},
	{Symbol: "github.com/google/nftables.objFromMsg", Why: "google/nftables' GetNamedObjects/GetObj* (every kind of object)",
		Cost: "9,482 B", Fix: "netfilter/nft's dumpObjects (name, type, ct helper)"},
	{Symbol: "github.com/google/nftables.elementsFromMsg", Why: "google/nftables' GetSetElements (its generic element decoder)",
		Cost: "2,642 B", Fix: "nft.ReadSetElements (key, expiry, counter)"},
	// google/nftables' writers: session 5 (issue 16) took them out together,
	// 103,988 B with the expression marshals; the costs are each one's own
	// symbols on mips.
	{Symbol: "github.com/google/nftables/expr.(*Cmp).marshal", Why: "google/nftables' expression marshal (Conn.AddRule/InsertRule, expr.Marshal/MarshalExprData call every expression type's marshal and marshalData through the interface)",
		Cost: "~40 KB with the rest of expr's marshals", Fix: "nftwire.Batch.AddRule, nftwire.ExprData"},
	{Symbol: "github.com/google/nftables.(*Conn).newRule", Why: "google/nftables' AddRule/InsertRule/ReplaceRule",
		Cost: "3,300 B", Fix: "nftwire.Batch.AddRule"},
	{Symbol: "github.com/google/nftables.(*Conn).AddSet", Why: "google/nftables' AddSet", Cost: "7,500 B", Fix: "nftwire.Batch.AddSet"},
	{Symbol: "github.com/google/nftables.(*Set).makeElemList", Why: "google/nftables' AddSet/SetAddElements/SetDeleteElements element encoder",
		Cost: "5,300 B", Fix: "nftwire.Batch.AddSet, SetAddElements"},
	{Symbol: "github.com/google/nftables.(*Conn).AddChain", Why: "google/nftables' AddChain", Cost: "2,400 B", Fix: "nftwire.Batch.AddChain"},
	{Symbol: "github.com/google/nftables.(*Conn).AddObj", Why: "google/nftables' AddObj/AddObject", Cost: "~1 KB", Fix: "nftwire.Batch.AddCtHelper"},
	{Symbol: "github.com/google/nftables.(*Conn).Flush", Why: "google/nftables' batch writer (Flush, FlushChain/FlushSet/FlushTable/FlushRuleset)",
		Cost: "~2 KB", Fix: "nftwire.Batch.Send, FlushChain, FlushSet"},
	{Symbol: "github.com/google/nftables.ruleFromMsg", Why: "google/nftables' GetRules (its rule decoder, ack-aware receive)",
		Cost: "~3.7 KB (8,353 B with the two below, net of nftwire's dumps)", Fix: "nftwire.Rules"},
	{Symbol: "github.com/google/nftables.chainFromMsg", Why: "google/nftables' ListChains/ListChainsOfTableFamily",
		Cost: "~2.8 KB", Fix: "nftwire.Chains"},
	{Symbol: "github.com/google/nftables.tableFromMsg", Why: "google/nftables' ListTables/ListTablesOfFamily/ListTableOfFamily",
		Cost: "~2.4 KB", Fix: "nftwire.Tables"},
	// The root package itself, even for its types or nftables.New: its init
	// builds name maps and links the test-dial and lasting-connection code.
	// Package "github.com/google/nftables" would not do: expr (nfteval's IR,
	// kept) shares the prefix; the root package's init is always linked.
	{Symbol: "github.com/google/nftables.init", Why: "google/nftables' root package (imported even only for Table/Chain/Rule/Conn)",
		Cost: "23,019 B (with nftables.New and the Conn that carried a namespace fd)",
		Fix:  "nftwire's Table, Chain, Rule, SetElement and constants; a namespace fd (int) instead of *nftables.Conn"},
}

// Violation is a broken rule: the rule and what showed it.
type Violation struct {
	Rule
	Found string // the package, or "<n> symbols, <b> bytes"
}

func (v Violation) Error() string {
	subject := v.Package
	if subject == "" {
		subject = v.Symbol
	}
	return fmt.Sprintf("%s is linked (%s): %s; it cost %s on mips; use %s", subject, v.Found, v.Why, v.Cost, v.Fix)
}

// CheckPackages reports the rules the dependency list (go list -deps) breaks.
func CheckPackages(deps []string) []Violation {
	var out []Violation
	for _, r := range Rules {
		if r.Package == "" {
			continue
		}
		for _, d := range deps {
			if d == r.Package || strings.HasSuffix(r.Package, "/") && strings.HasPrefix(d, r.Package) {
				out = append(out, Violation{Rule: r, Found: d})
				break
			}
		}
	}
	return out
}

// Linked sums the defined symbols of an unstripped ELF binary whose names
// start with prefix.
func Linked(f *elf.File, prefix string) (n, bytes int, err error) {
	syms, err := f.Symbols()
	if err != nil {
		return 0, 0, fmt.Errorf("read symbols (build without -s -w): %w", err)
	}
	for _, s := range syms {
		if strings.HasPrefix(s.Name, prefix) && s.Section > 0 && int(s.Section) < len(f.Sections) &&
			f.Sections[s.Section].Type != elf.SHT_NOBITS {
			n++
			bytes += int(s.Size)
		}
	}
	return n, bytes, nil
}

// CheckSymbols reports the rules an unstripped binary's symbol table breaks.
func CheckSymbols(f *elf.File) ([]Violation, error) {
	var out []Violation
	for _, r := range Rules {
		if r.Symbol == "" {
			continue
		}
		n, b, err := Linked(f, r.Symbol)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			out = append(out, Violation{Rule: r, Found: fmt.Sprintf("%d symbols, %d bytes", n, b)})
		}
	}
	return out, nil
}
