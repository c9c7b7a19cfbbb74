package netfilter

import "github.com/vpnpass/vpnpass/vpn"
import "testing"

// fixed is a chain that always returns the same explanation.
type fixed struct {
	name string
	prio int32
	v    Verdict
	by   *Decider
}

func (f fixed) Ref() ChainRef { return ChainRef{Table: f.name, Name: "forward", Priority: f.prio} }
func (f fixed) Evaluate(Packet) Explanation {
	return Explanation{Verdict: f.v, DecidedBy: f.by, Path: []Step{{Table: f.name, Effect: string(f.v)}}}
}

func TestEvaluateHook(t *testing.T) {
	acc := func(n string, p int32) fixed { return fixed{n, p, Accept, &Decider{Table: n}} }
	tests := []struct {
		name   string
		chains []Chain
		want   Verdict
		by     string
		steps  int
	}{
		{"no chains accept", nil, Accept, "", 0},
		{"all accept: last decides", []Chain{acc("a", 0), acc("b", 10)}, Accept, "b", 2},
		{"priority order, not list order", []Chain{acc("late", 10), fixed{"early", -5, Drop, &Decider{Table: "early"}}}, Drop, "early", 1},
		{"drop after accept is final", []Chain{acc("a", 0), fixed{"b", 0, Reject, &Decider{Table: "b"}}}, Reject, "b", 2},
		{"uncertain then accept stays uncertain", []Chain{fixed{"u", 0, Uncertain, nil}, acc("b", 5)}, Uncertain, "u", 2},
		{"uncertain then drop is drop", []Chain{fixed{"u", 0, Uncertain, nil}, fixed{"d", 5, Drop, &Decider{Table: "d"}}}, Drop, "d", 2},
		{"accept without decider keeps the earlier one", []Chain{acc("a", 0), fixed{"nat", 100, Accept, nil}}, Accept, "a", 2},
		// fw4's chain accepts through our `vpnpass:ipsec` rule; our own
		// chain after it only lets the packet pass by its policy: the rule
		// made the difference, not that policy.
		{"a rule's accept outranks a later policy accept", []Chain{acc("fw4", 0), fixed{"vpnpass", 10, Accept, &Decider{Table: "vpnpass", Policy: "accept"}}}, Accept, "fw4", 2},
		{"policies only: the last one", []Chain{fixed{"a", 0, Accept, &Decider{Table: "a", Policy: "accept"}}, fixed{"b", 10, Accept, &Decider{Table: "b", Policy: "accept"}}}, Accept, "b", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := EvaluateHook(tc.chains, Packet{})
			by := ""
			if got.DecidedBy != nil {
				by = got.DecidedBy.Table
			}
			if got.Verdict != tc.want || by != tc.by || len(got.Path) != tc.steps {
				t.Fatalf("got %s by %q with %d steps, want %s by %q with %d", got.Verdict, by, len(got.Path), tc.want, tc.by, tc.steps)
			}
		})
	}
}

func TestWorstAndParse(t *testing.T) {
	if Worst(Accept, Uncertain) != Uncertain || Worst(Drop, Reject) != Drop || Worst("", Accept) != Accept {
		t.Fatal("Worst ordering is drop > reject > uncertain > accept")
	}
	if _, err := vpn.ParseProtocol("sstp"); err == nil {
		t.Fatal("sstp accepted")
	}
	if _, err := ParseMode("on"); err == nil {
		t.Fatal("mode on accepted")
	}
	for f, want := range map[uint8]string{1: "inet", 2: "ip", 10: "ip6", 7: "bridge", 99: "family99"} {
		if got := NFTFamilyName(f); got != want {
			t.Errorf("NFTFamilyName(%d) = %q, want %q", f, got, want)
		}
	}
	if n := len(vpn.Footprint(vpn.IPsec)); n != 7 {
		t.Fatalf("ipsec footprint has %d elements, want 7 (AH for IPv6 only)", n)
	}
}
