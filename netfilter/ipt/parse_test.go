package ipt

import (
	"reflect"
	"strings"
	"testing"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{`-A x -j ACCEPT`, []string{"-A", "x", "-j", "ACCEPT"}},
		{`-A x -m comment --comment "vpnpass:jump" -j y`, []string{"-A", "x", "-m", "comment", "--comment", "vpnpass:jump", "-j", "y"}},
		{`-A x -m comment --comment "!fw3: Zone lan to wan" -j y`, []string{"-A", "x", "-m", "comment", "--comment", "!fw3: Zone lan to wan", "-j", "y"}},
		{`-A x -m comment --comment "say \"hi\" \\ ok"`, []string{"-A", "x", "-m", "comment", "--comment", `say "hi" \ ok`}},
		{`-A x -m comment --comment ""`, []string{"-A", "x", "-m", "comment", "--comment", ""}},
	}
	for _, tt := range tests {
		got, err := tokenize(tt.line)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("tokenize(%q) = %q, %v; want %q", tt.line, got, err, tt.want)
		}
	}
	if _, err := tokenize(`-A x --comment "open`); err == nil {
		t.Error("unterminated quote: no error")
	}
}

func TestParseRule(t *testing.T) {
	tests := []struct {
		line                 string
		in, out, target, cmt string
		neg                  bool // -i negated
		proto                int
		gotoT                bool
		targetArgs           string
		modules              string
		bad                  bool
	}{
		{line: `-A FORWARD -m comment --comment "vpnpass:jump" -j vpnpass_fwd`, target: "vpnpass_fwd", cmt: "vpnpass:jump", modules: "comment"},
		{line: `-A vpnpass_fwd -i br-lan -o eth1 -p udp -m udp --dport 1701 -m comment --comment "vpnpass:l2tp" -j ACCEPT`,
			in: "br-lan", out: "eth1", proto: 17, target: "ACCEPT", cmt: "vpnpass:l2tp", modules: "udp,comment"},
		{line: `-A x ! -i br+ -p gre -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`, in: "br+", neg: true, proto: 47, target: "RETURN", modules: "conntrack"},
		{line: `-A x -p 99 -g other`, proto: 99, target: "other", gotoT: true},
		{line: `-A reject -p tcp -m comment --comment "!fw3" -j REJECT --reject-with tcp-reset`, proto: 6, target: "REJECT", cmt: "!fw3", targetArgs: "--reject-with tcp-reset", modules: "comment"},
		{line: `-A vpnpass_helper -i br-lan -p tcp -m tcp --dport 1723 -m comment --comment "vpnpass:pptp" -j CT --helper pptp`,
			in: "br-lan", proto: 6, target: "CT", cmt: "vpnpass:pptp", targetArgs: "--helper pptp", modules: "tcp,comment"},
		{line: `-A x -m ah -j ACCEPT`, target: "ACCEPT", modules: "ah"},
		{line: `-A x bogus -j ACCEPT`, bad: true},
	}
	for _, tt := range tests {
		toks, err := tokenize(tt.line)
		if err != nil {
			t.Fatal(err)
		}
		r := parseRule(toks[1], toks[2:])
		var mods []string
		for _, m := range r.Matches {
			mods = append(mods, m.Module)
		}
		if (r.Bad != "") != tt.bad {
			t.Errorf("%s: Bad = %q", tt.line, r.Bad)
			continue
		}
		if tt.bad {
			continue
		}
		got := []any{r.In.Name, r.Out.Name, r.Target, r.Comment, r.In.Neg, r.Goto, strings.Join(r.TargetArgs, " "), strings.Join(mods, ",")}
		want := []any{tt.in, tt.out, tt.target, tt.cmt, tt.neg, tt.gotoT, tt.targetArgs, tt.modules}
		if !reflect.DeepEqual(got, want) || (tt.proto != 0 && r.Proto.Num != tt.proto) {
			t.Errorf("%s:\n got %v proto %d\nwant %v proto %d", tt.line, got, r.Proto.Num, want, tt.proto)
		}
		// Args are exactly what `iptables -D chain ...` takes back.
		if s := r.String(); s != tt.line {
			t.Errorf("String() = %q, want %q", s, tt.line)
		}
	}
}

// TestKeyNormalizes: what we write and what iptables prints back compare
// equal although the words differ (protocol names, state order).
func TestKeyNormalizes(t *testing.T) {
	pairs := [][2]string{
		{`-A c -p 47 -m comment --comment vpnpass:pptp -j ACCEPT`, `-A c -p gre -m comment --comment "vpnpass:pptp" -j ACCEPT`},
		{`-A c -p 50 -j DROP`, `-A c -p esp -j DROP`},
		{`-A c -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT`, `-A c -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`},
		{`-A c -s 10.1.2.3 -j ACCEPT`, `-A c -s 10.1.2.3/32 -j ACCEPT`},
		{`-A c -d 10.0.0.0/255.0.0.0 -j ACCEPT`, `-A c -d 10.0.0.0/8 -j ACCEPT`},
	}
	for _, p := range pairs {
		a, b := mustRule(t, p[0]), mustRule(t, p[1])
		if a.Key() != b.Key() {
			t.Errorf("keys differ:\n %s\n %s", a.Key(), b.Key())
		}
	}
	differ := [][2]string{
		{`-A c -p udp -m udp --dport 500 -j ACCEPT`, `-A c -p udp -m udp --dport 4500 -j ACCEPT`},
		{`-A c -i br-lan -j ACCEPT`, `-A c ! -i br-lan -j ACCEPT`},
		{`-A c -j vpnpass_fwd`, `-A c -g vpnpass_fwd`},
		{`-A c -m comment --comment vpnpass:l2tp -j ACCEPT`, `-A c -m comment --comment vpnpass:pptp -j ACCEPT`},
	}
	for _, p := range differ {
		if mustRule(t, p[0]).Key() == mustRule(t, p[1]).Key() {
			t.Errorf("keys equal: %s / %s", p[0], p[1])
		}
	}
}

func mustRule(t testing.TB, line string) *Rule {
	t.Helper()
	toks, err := tokenize(line)
	if err != nil {
		t.Fatal(err)
	}
	return parseRule(toks[1], toks[2:])
}

func TestParseChain(t *testing.T) {
	c, err := parseChain("FORWARD", []string{"-P FORWARD DROP", `-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`, ""})
	if err != nil || c.Policy != "DROP" || len(c.Rules) != 1 {
		t.Fatalf("parseChain = %+v, %v", c, err)
	}
	if _, err := parseChain("x", []string{"garbage here"}); err == nil {
		t.Error("garbage line: no error")
	}
}

// listRunner is a runner whose ListTable returns fixed lines.
type listRunner struct {
	runner
	lines []string
}

func (l listRunner) ListTable(string) ([]string, error) { return l.lines, nil }

func TestListTableGroupsByChain(t *testing.T) {
	tests := []struct {
		name    string
		lines   []string
		names   []string
		forward int // rules of FORWARD
		err     string
	}{
		{"policies, user chains, rules in any chain order", []string{
			"-P INPUT ACCEPT", "-P FORWARD DROP", "-N vpnpass_fwd", "",
			"-A FORWARD -j vpnpass_fwd", "-A vpnpass_fwd -p gre -j ACCEPT", "-A FORWARD -j DROP",
		}, []string{"INPUT", "FORWARD", "vpnpass_fwd"}, 2, ""},
		{"counters moved behind the rule still group", []string{
			"-P FORWARD ACCEPT", "-A FORWARD -j ACCEPT -c 3 180",
		}, []string{"FORWARD"}, 1, ""},
		{"garbage is an error naming the table", []string{"-P FORWARD ACCEPT", "garbage here"}, nil, 0,
			`list filter: unexpected line "garbage here"`},
		{"a bad rule is an error of its chain", []string{"-P FORWARD ACCEPT", `-A FORWARD -m comment --comment "x`}, nil, 0,
			"read filter FORWARD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl, err := listTable(listRunner{lines: tt.lines}, "filter")
			var c *ChainRules
			if err == nil {
				c, err = tl.chain("filter", "FORWARD")
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tl.names, tt.names) || len(c.Rules) != tt.forward {
				t.Errorf("names %q, FORWARD rules %d; want %q, %d", tl.names, len(c.Rules), tt.names, tt.forward)
			}
		})
	}
}
