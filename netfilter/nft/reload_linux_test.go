package nft

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter/nftwire"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/google/nftables"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/test/lab"
)

var fw4Locked = lab.Config{Firewalls: []lab.Firewall{lab.FW4Locked}}

// TestFW4ReloadWithInclude: fw4 flushes and re-renders table inet fw4; its
// chain-pre include (our symlink directory) brings our rules back with no
// call of ours, identical to what we had inserted: no drift.
func TestFW4ReloadWithInclude(t *testing.T) {
	r := newRig(t, rigConfig{lab: fw4Locked, kind: netfilter.KindFW4, autoIncludes: true, include: true})
	if !r.b.Persistent() {
		t.Fatal("fw4 with auto_includes must report persistent rules")
	}
	r.apply(allAllow)
	want := r.tagged()
	if err := r.l.ReloadFW4(); err != nil {
		t.Fatal(err)
	}
	got := r.tagged()
	if len(got) != len(want) || got["inet fw4 forward"] != want["inet fw4 forward"] || want["inet fw4 forward"] == 0 {
		t.Errorf("after reload tagged rules %v, before %v", got, want)
	}
	if ch := r.plan(allAllow); len(ch) != 0 {
		t.Errorf("drift after a reload that rendered our include:\n%s", changesText(ch))
	}
	r.cleanup(r.b)
	r.assertNothingOfOurs()
}

// TestFW4ReloadWithoutInclude: with auto_includes off, a reload drops our
// rules from fw4's chain; Plan reports exactly the missing rules (our own
// table survived) and one Apply repairs.
func TestFW4ReloadWithoutInclude(t *testing.T) {
	r := newRig(t, rigConfig{lab: fw4Locked, kind: netfilter.KindFW4, autoIncludes: false})
	if r.b.Persistent() {
		t.Fatal("auto_includes 0 must not report persistent rules")
	}
	d := netfilter.Desired{vpn.PPTP: netfilter.ModeAllow, vpn.IPsec: netfilter.ModeBlock}
	r.apply(d)
	if err := r.l.ReloadFW4(); err != nil {
		t.Fatal(err)
	}
	ch := r.plan(d)
	if want := len(r.b.cfg.foreignSpecs(d, famInet)); len(ch) != want {
		t.Fatalf("plan after reload has %d changes, want %d adds:\n%s", len(ch), want, changesText(ch))
	}
	for _, c := range ch {
		if c.Action != "add" || c.Table != "fw4" || c.Chain != "forward" || c.Protocol != vpn.PPTP {
			t.Errorf("unexpected change %+v", c)
		}
	}
	if got := r.apply(d); len(got) != len(ch) {
		t.Errorf("repair made %d changes, plan said %d", len(got), len(ch))
	}
	if ch := r.plan(d); len(ch) != 0 {
		t.Errorf("drift after repair:\n%s", changesText(ch))
	}
}

// TestDriftDetected: a rule of ours deleted, altered or overtaken by a
// foreign drop is reported and repaired; foreign rules are left alone.
func TestDriftDetected(t *testing.T) {
	r := newRig(t, rigConfig{lab: fw4Locked, kind: netfilter.KindFW4, autoIncludes: true})
	d := netfilter.Desired{vpn.L2TP: netfilter.ModeAllow, vpn.PPTP: netfilter.ModeAllow}
	fw4 := &nftables.Table{Family: nftables.TableFamilyINet, Name: "fw4"}
	ourT := &nftables.Table{Family: nftables.TableFamilyINet, Name: OurTable}
	for _, tc := range []struct {
		name    string
		mutate  func()
		changes int
	}{
		{"foreign rule deleted", func() { r.delTagged(fw4, "forward", 1) }, 1},
		{"helper rule deleted", func() { r.delTagged(ourT, chainPrerouting, 1) }, 1},
		{"rule altered", func() {
			h := r.taggedHandles(fw4, "forward")[0]
			r.nft("replace", "rule", "inet", "fw4", "forward", "handle", h,
				`iifname "br-lan" udp dport 1701 drop comment "vpnpass:l2tp"`)
		}, 2},
		{"foreign drop inserted ahead", func() {
			r.nft("insert", "rule", "inet", "fw4", "forward", "meta l4proto udp drop")
		}, 2 * len(r.b.cfg.foreignSpecs(d, famInet))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.t = t
			r.apply(d)
			tc.mutate()
			ch := r.plan(d)
			if len(ch) != tc.changes {
				t.Fatalf("plan has %d changes, want %d:\n%s", len(ch), tc.changes, changesText(ch))
			}
			r.apply(d)
			if ch := r.plan(d); len(ch) != 0 {
				t.Fatalf("drift after repair:\n%s", changesText(ch))
			}
		})
	}
	r.t = t
	// The foreign drop inserted above is not ours: it must still be there,
	// behind our rules.
	if fwd := r.nft("list", "chain", "inet", "fw4", "forward"); !strings.Contains(fwd, "meta l4proto udp drop") {
		t.Errorf("foreign rule removed:\n%s", fwd)
	}
	r.cleanup(r.b)
	if fwd := r.nft("list", "chain", "inet", "fw4", "forward"); !strings.Contains(fwd, "meta l4proto udp drop") {
		t.Errorf("cleanup removed a foreign rule:\n%s", fwd)
	}
}

// taggedHandles returns the handles of our rules in a chain, as strings.
func (r *rig) taggedHandles(t *nftables.Table, chain string) []string {
	r.t.Helper()
	s, err := readSnapshot(r.conn.NetNS)
	if err != nil {
		r.t.Fatal(err)
	}
	rules, err := s.chainRules(&nftwire.Table{Name: t.Name, Family: nftwire.Family(t.Family)}, chain)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, rule := range rules {
		if netfilter.IsOurTag(nftwire.RuleComment(rule.UserData)) {
			out = append(out, strconv.FormatUint(rule.Handle, 10))
		}
	}
	if len(out) == 0 {
		r.t.Fatalf("no rule of ours in %s %s", t.Name, chain)
	}
	return out
}

func (r *rig) delTagged(t *nftables.Table, chain string, n int) {
	r.t.Helper()
	for _, h := range r.taggedHandles(t, chain)[:n] {
		r.nft("delete", "rule", "inet", t.Name, chain, "handle", h)
	}
}

// TestOurTableRepaired: whatever someone did to table inet vpnpass (a chain
// of ours with another priority, a chain and a counter we never made, a
// helper object of another type), one Apply makes it what we want.
func TestOurTableRepaired(t *testing.T) {
	r := newRig(t, rigConfig{lab: lab.Config{Firewalls: []lab.Firewall{lab.NftablesDrop}}, kind: netfilter.KindNftables})
	d := netfilter.Desired{vpn.PPTP: netfilter.ModeAllow, vpn.L2TP: netfilter.ModeBlock}
	for _, tc := range []struct {
		name string
		cmds [][]string
	}{
		{"wrong priority", [][]string{
			{"add", "table", "inet", OurTable},
			{"add", "chain", "inet", OurTable, chainForward, "{ type filter hook forward priority 50; policy accept; }"},
			{"add", "rule", "inet", OurTable, chainForward, "udp dport 1701 drop"},
		}},
		{"strangers", [][]string{
			{"add", "chain", "inet", OurTable, "junk", "{ type filter hook input priority 0; policy accept; }"},
			{"add", "counter", "inet", OurTable, "cnt"},
			{"add", "rule", "inet", OurTable, chainPrerouting, "counter"},
		}},
		{"wrong helper", [][]string{
			{"delete", "table", "inet", OurTable},
			{"add", "table", "inet", OurTable},
			{"add", "ct", "helper", "inet", OurTable, HelperObject, `{ type "ftp" protocol tcp; }`},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.t = t
			if tc.name == "strangers" {
				r.apply(d)
			}
			for _, c := range tc.cmds {
				r.nft(c...)
			}
			if ch := r.plan(d); len(ch) == 0 {
				t.Fatal("no drift reported")
			}
			r.apply(d)
			if ch := r.plan(d); len(ch) != 0 {
				t.Fatalf("drift after repair:\n%s", changesText(ch))
			}
			ours := r.listTable("inet", OurTable)
			if strings.Contains(ours, "junk") || strings.Contains(ours, "priority 50") || strings.Contains(ours, `"ftp"`) ||
				strings.Contains(ours, "counter") {
				t.Errorf("stranger left in our table:\n%s", ours)
			}
		})
	}
}
