package ipt

import (
	"github.com/vpnpass/vpnpass/vpn"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
)

const baseFilter = `
-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`

const baseRaw = `
-P PREROUTING ACCEPT
-P OUTPUT ACCEPT`

const fw3Filter = `
-P FORWARD DROP
-N forwarding_rule
-N reject
-A FORWARD -m comment --comment "!fw3: Custom forwarding rule chain" -j forwarding_rule
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "!fw3" -j ACCEPT
-A FORWARD -m comment --comment "!fw3" -j reject
-A reject -j REJECT --reject-with icmp-port-unreachable`

var allowL2TP = netfilter.Desired{vpn.L2TP: netfilter.ModeAllow}

func readFake(t *testing.T, f *fakeIPT) famState {
	t.Helper()
	st := famState{}
	for _, table := range []string{tableFilter, tableRaw} {
		ts, err := readTable(f, table, f.tables[table] != nil)
		if err != nil {
			t.Fatal(err)
		}
		st[table] = ts
	}
	return st
}

func planFake(t *testing.T, f *fakeIPT, d netfilter.Desired, fw3 bool) []op {
	t.Helper()
	return diffFamily("iptables", readFake(t, f), desiredLayout(d, vpn.IPv4, []string{"br-lan"}, []string{"eth1"}), fw3)
}

// applyFake runs ops and checks each delete's recorded position is where
// the kernel would find the rule.
func applyFake(t *testing.T, f *fakeIPT, ops []op) {
	t.Helper()
	for _, o := range ops {
		if o.kind == opDelete {
			k := parseRule(o.chain, o.args).Key()
			c, _ := f.chain(o.table, o.chain)
			at := -1
			for i, r := range c.rules {
				if parseRule(o.chain, r).Key() == k {
					at = i + 1
					break
				}
			}
			if at != o.pos {
				t.Errorf("delete %s: recorded position %d, rule is at %d", o.change("").Rule, o.pos, at)
			}
		}
		if err := o.run(f); err != nil {
			t.Fatalf("op %s: %v", o.change("").Rule, err)
		}
	}
}

func rules(ops []op) string {
	var out []string
	for _, o := range ops {
		c := o.change("")
		out = append(out, c.Action+" "+c.Table+" "+c.Rule)
	}
	return strings.Join(out, "\n")
}

func TestDiffScenarios(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		raw    string
		d      netfilter.Desired
		fw3    bool
		want   []string // substrings of the ops, in order
	}{
		{name: "fresh allow", filter: baseFilter, raw: baseRaw, d: allowL2TP, want: []string{
			"add filter -N vpnpass_fwd", "add filter -A vpnpass_fwd -i br-lan -o eth1 -p udp", "add filter -A vpnpass_fwd -i eth1 -o br-lan",
			"add filter -I FORWARD 1 -m comment --comment \"vpnpass:jump\" -j vpnpass_fwd"}},
		{name: "fresh pptp allow adds the raw helper chain", filter: baseFilter, raw: baseRaw,
			d: netfilter.Desired{vpn.PPTP: netfilter.ModeAllow}, want: []string{
				"add filter -N vpnpass_fwd", "add raw -N vpnpass_helper", "add raw -A vpnpass_helper -i br-lan", "add raw -A vpnpass_helper -o eth1",
				"add filter -I FORWARD 1", "add raw -I PREROUTING 1", "add raw -I OUTPUT 1"}},
		{name: "fw3 jumps from forwarding_rule", filter: fw3Filter, raw: baseRaw, d: allowL2TP, fw3: true, want: []string{
			"add filter -N vpnpass_fwd", "-I forwarding_rule 1"}},
		{name: "stale jump in FORWARD moves to forwarding_rule", fw3: true, raw: baseRaw, d: allowL2TP,
			filter: fw3Filter + "\n-N vpnpass_fwd\n" + `-I FORWARD -m comment --comment "vpnpass:jump" -j vpnpass_fwd`, want: []string{
				"add filter -A vpnpass_fwd", "add filter -A vpnpass_fwd",
				"delete filter -A FORWARD -m comment --comment \"vpnpass:jump\"", "add filter -I forwarding_rule 1"}},
		{name: "default removes everything", raw: baseRaw, d: netfilter.Desired{},
			filter: baseFilter + "\n-N vpnpass_fwd\n" + `-A vpnpass_fwd -p 47 -m comment --comment "vpnpass:pptp" -j DROP` +
				"\n" + `-A FORWARD -m comment --comment "vpnpass:jump" -j vpnpass_fwd`, want: []string{
				"delete filter -A FORWARD -m comment", "delete filter -A vpnpass_fwd -p 47", "delete filter -X vpnpass_fwd"}},
		{name: "jump not first is reinserted", raw: baseRaw, d: netfilter.Desired{vpn.PPTP: netfilter.ModeBlock},
			filter: baseFilter + "\n-N vpnpass_fwd\n" +
				"-A vpnpass_fwd -i br-lan -o eth1 -p tcp -m tcp --dport 1723 -m comment --comment vpnpass:pptp -j DROP\n" +
				"-A vpnpass_fwd -i br-lan -o eth1 -p gre -m comment --comment vpnpass:pptp -j DROP\n" +
				`-A FORWARD -m comment --comment "vpnpass:jump" -j vpnpass_fwd`, want: []string{
				"delete filter -A FORWARD -m comment", "add filter -I FORWARD 1"}},
		{name: "mode change swaps rules", raw: baseRaw, d: netfilter.Desired{vpn.L2TP: netfilter.ModeBlock},
			filter: baseFilter + "\n-N vpnpass_fwd\n" +
				"-A vpnpass_fwd -i br-lan -o eth1 -p udp -m udp --dport 1701 -m comment --comment vpnpass:l2tp -j ACCEPT\n" +
				"-A vpnpass_fwd -i eth1 -o br-lan -p udp -m udp --sport 1701 -m conntrack --ctstate ESTABLISHED -m comment --comment vpnpass:l2tp -j ACCEPT\n" +
				`-I FORWARD -m comment --comment "vpnpass:jump" -j vpnpass_fwd`, want: []string{
				"add filter -A vpnpass_fwd -i br-lan -o eth1 -p udp -m udp --dport 1701 -m comment --comment \"vpnpass:l2tp\" -j DROP",
				"delete filter -A vpnpass_fwd -i br-lan -o eth1 -p udp -m udp --dport 1701 -m comment --comment \"vpnpass:l2tp\" -j ACCEPT",
				"delete filter -A vpnpass_fwd -i eth1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// "-I" lines in fixtures are inserted first, for readability.
			filter := tt.filter
			var first []string
			var lines []string
			for _, l := range strings.Split(filter, "\n") {
				if strings.HasPrefix(l, "-I ") {
					first = append(first, "-A "+strings.TrimPrefix(l, "-I "))
				} else {
					lines = append(lines, l)
				}
			}
			f := newFake(t, map[string]string{tableFilter: strings.Join(lines, "\n"), tableRaw: tt.raw})
			for _, l := range first {
				toks, _ := tokenize(l)
				if err := f.Insert(tableFilter, toks[1], 1, toks[2:]...); err != nil {
					t.Fatal(err)
				}
			}
			ops := planFake(t, f, tt.d, tt.fw3)
			got := rules(ops)
			at := 0
			for _, w := range tt.want {
				i := strings.Index(got[at:], w)
				if i < 0 {
					t.Fatalf("ops lack %q after position %d:\n%s", w, at, got)
				}
				at += i + len(w)
			}
			applyFake(t, f, ops)
			if again := planFake(t, f, tt.d, tt.fw3); len(again) != 0 {
				t.Errorf("second plan not empty:\n%s", rules(again))
			}
		})
	}
}

// TestDiffUndo: applying a plan and then its inverses in reverse order gives
// back the state before, for every transition between modes.
func TestDiffUndo(t *testing.T) {
	states := []netfilter.Desired{
		{},
		{vpn.PPTP: netfilter.ModeAllow},
		{vpn.PPTP: netfilter.ModeBlock, vpn.IPsec: netfilter.ModeAllow},
		{vpn.L2TP: netfilter.ModeAllow, vpn.IPsec: netfilter.ModeBlock},
		{vpn.PPTP: netfilter.ModeAllow, vpn.L2TP: netfilter.ModeAllow, vpn.IPsec: netfilter.ModeAllow},
	}
	for _, fw3 := range []bool{false, true} {
		filter := baseFilter
		if fw3 {
			filter = fw3Filter
		}
		for i, from := range states {
			for j, to := range states {
				f := newFake(t, map[string]string{tableFilter: filter, tableRaw: baseRaw})
				applyFake(t, f, planFake(t, f, from, fw3))
				before := f.dump()
				ops := planFake(t, f, to, fw3)
				applyFake(t, f, ops)
				if again := planFake(t, f, to, fw3); len(again) != 0 {
					t.Errorf("fw3=%v %d→%d: second plan not empty:\n%s", fw3, i, j, rules(again))
				}
				for k := len(ops) - 1; k >= 0; k-- {
					if err := ops[k].inverse().run(f); err != nil {
						t.Fatalf("fw3=%v %d→%d: undo %s: %v", fw3, i, j, ops[k].change("").Rule, err)
					}
				}
				if after := f.dump(); after != before {
					t.Errorf("fw3=%v %d→%d: undo did not restore:\n%s\nwant:\n%s", fw3, i, j, after, before)
				}
			}
		}
	}
}

func TestOwnViewIgnoresForeign(t *testing.T) {
	f := newFake(t, map[string]string{tableFilter: baseFilter, tableRaw: baseRaw})
	applyFake(t, f, planFake(t, f, allowL2TP, false))
	before := ownView(readFake(t, f))
	if err := f.Append(tableFilter, "FORWARD", "-p", "icmp", "-j", "ACCEPT"); err != nil {
		t.Fatal(err)
	}
	if ownView(readFake(t, f)) != before {
		t.Error("a foreign rule appended after ours changed our view")
	}
	if err := f.Delete(tableFilter, ChainFwd, desiredLayout(allowL2TP, vpn.IPv4, []string{"br-lan"}, []string{"eth1"}).fwd[0].args...); err != nil {
		t.Fatal(err)
	}
	if ownView(readFake(t, f)) == before {
		t.Error("deleting one of our rules left our view unchanged")
	}
}
