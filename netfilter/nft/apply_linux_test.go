package nft

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/test/lab"
)

// foreignTarget is the foreign chain each firewall's allow rules go to.
type foreignTarget struct {
	fam, table, chain string
}

// TestApplyPerProtocolAndMode: for each protocol and mode, on fw4 and on a
// distro-like `inet filter` with a drop policy: Apply changes something,
// then Plan is empty and a second Apply changes nothing; the rules sit where
// they must; back to default, the foreign ruleset lists exactly as before.
func TestApplyPerProtocolAndMode(t *testing.T) {
	for _, fw := range []struct {
		name   string
		rc     rigConfig
		target foreignTarget
	}{
		{"fw4", rigConfig{lab: lab.Config{Firewalls: []lab.Firewall{lab.FW4}}, kind: netfilter.KindFW4, autoIncludes: true},
			foreignTarget{"inet", "fw4", "forward"}},
		{"nftables-drop", rigConfig{lab: lab.Config{Firewalls: []lab.Firewall{lab.NftablesDrop}}, kind: netfilter.KindNftables},
			foreignTarget{"inet", lab.NftablesDropTable, "forward"}},
	} {
		t.Run(fw.name, func(t *testing.T) {
			r := newRig(t, fw.rc)
			before := r.listTable(fw.target.fam, fw.target.table)
			for _, p := range vpn.Toggled {
				for _, m := range []netfilter.Mode{netfilter.ModeAllow, netfilter.ModeBlock} {
					t.Run(string(p)+"-"+string(m), func(t *testing.T) {
						r.t = t
						r.checkMode(p, m, fw.target)
						r.checkBackToDefault(fw.target, before)
					})
				}
			}
		})
	}
}

func (r *rig) checkMode(p vpn.Protocol, m netfilter.Mode, target foreignTarget) {
	t := r.t
	d := netfilter.Desired{p: m}
	if ch := r.apply(d); len(ch) == 0 {
		t.Fatalf("first Apply(%v) changed nothing", d)
	}
	if ch := r.plan(d); len(ch) != 0 {
		t.Fatalf("Plan after Apply is not empty:\n%s", changesText(ch))
	}
	if ch := r.apply(d); len(ch) != 0 {
		t.Fatalf("second Apply changed:\n%s", changesText(ch))
	}
	tagged := r.tagged()
	key := target.fam + " " + target.table + " " + target.chain
	ourFwd := "inet " + OurTable + " " + chainForward
	switch m {
	case netfilter.ModeAllow:
		want := len(r.b.cfg.allowSpecs(p, famInet))
		if tagged[key] != want {
			t.Errorf("tagged rules in %s = %d, want %d (all: %v)", key, tagged[key], want, tagged)
		}
		if tagged[ourFwd] != 0 {
			t.Errorf("allow left block rules: %v", tagged)
		}
		r.checkAllowAtHead(target, p)
	case netfilter.ModeBlock:
		if tagged[key] != 0 {
			t.Errorf("block put rules in the foreign chain %s: %v", key, tagged)
		}
		if want := len(r.b.cfg.blockSpecs(p)); tagged[ourFwd] != want {
			t.Errorf("block rules in %s = %d, want %d", ourFwd, tagged[ourFwd], want)
		}
	}
	ours := ""
	if r.hasOurTable() {
		ours = r.listTable("inet", OurTable)
	} else if p == vpn.PPTP || m == netfilter.ModeBlock {
		t.Errorf("table inet %s missing for %s %s", OurTable, p, m)
	}
	hasHelper := strings.Contains(ours, `ct helper set "`+HelperObject+`"`) &&
		strings.Contains(ours, `type "pptp" protocol tcp`)
	if wantHelper := p == vpn.PPTP && m == netfilter.ModeAllow; hasHelper != wantHelper {
		t.Errorf("helper assignment present=%v, want %v:\n%s", hasHelper, wantHelper, ours)
	}
	r.checkIncludeFile(d)
}

// checkAllowAtHead: nft shows our rules, with their comments, first in the
// foreign chain.
func (r *rig) checkAllowAtHead(target foreignTarget, p vpn.Protocol) {
	t := r.t
	chain := r.nft("list", "chain", target.fam, target.table, target.chain)
	var rules []string
	for _, line := range strings.Split(chain, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "type ") || strings.HasPrefix(line, "chain ") ||
			strings.HasPrefix(line, "table ") || line == "}" {
			continue
		}
		rules = append(rules, line)
	}
	n := len(r.b.cfg.allowSpecs(p, famInet))
	if len(rules) < n {
		t.Fatalf("chain has %d rules, want at least %d:\n%s", len(rules), n, chain)
	}
	for i, line := range rules[:n] {
		if !strings.HasSuffix(line, `comment "`+netfilter.Tag(p)+`"`) {
			t.Errorf("rule %d of %s is not ours: %s", i, target.chain, line)
		}
	}
}

func (r *rig) checkIncludeFile(d netfilter.Desired) {
	t := r.t
	path := filepath.Join(r.root, IncludeFile)
	got, err := os.ReadFile(path)
	want := ""
	if r.b.cfg.usesInclude() {
		want = r.b.cfg.includeText(d)
	}
	switch {
	case want == "" && err == nil:
		t.Errorf("include file present for %v:\n%s", d, got)
	case want != "" && string(got) != want:
		t.Errorf("include file = %q (err %v), want %q", got, err, want)
	case want != "":
		link := filepath.Join(r.root, IncludeSymlink)
		if target, err := os.Readlink(link); err != nil || target != path {
			t.Errorf("symlink %s -> %q (%v), want %s", link, target, err, path)
		}
	}
}

func (r *rig) checkBackToDefault(target foreignTarget, before string) {
	t := r.t
	if ch := r.apply(netfilter.Desired{}); len(ch) == 0 {
		t.Errorf("Apply(default) changed nothing")
	}
	if ch := r.plan(netfilter.Desired{}); len(ch) != 0 {
		t.Errorf("Plan(default) not empty:\n%s", changesText(ch))
	}
	if after := r.listTable(target.fam, target.table); after != before {
		t.Errorf("foreign table differs after default:\n--- before\n%s--- after\n%s", before, after)
	}
	r.assertNothingOfOurs()
}

// TestApplyAllThenChange moves several protocols at once and between modes:
// each step is one batch and leaves no drift.
func TestApplyAllThenChange(t *testing.T) {
	r := newRig(t, rigConfig{lab: lab.Config{Firewalls: []lab.Firewall{lab.FW4}}, kind: netfilter.KindFW4, autoIncludes: true})
	steps := []netfilter.Desired{
		allAllow,
		{vpn.PPTP: netfilter.ModeBlock, vpn.L2TP: netfilter.ModeAllow, vpn.IPsec: netfilter.ModeBlock},
		{vpn.PPTP: netfilter.ModeAllow, vpn.IPsec: netfilter.ModeBlock},
		{vpn.L2TP: netfilter.ModeBlock},
		allAllow,
		{},
	}
	for i, d := range steps {
		r.apply(d)
		if ch := r.plan(d); len(ch) != 0 {
			t.Fatalf("step %d %v: drift after Apply:\n%s", i, d, changesText(ch))
		}
	}
	r.assertNothingOfOurs()
}

// TestPlanIsDryRun: Plan reports the rules Apply would add, in nft syntax,
// and changes nothing.
func TestPlanIsDryRun(t *testing.T) {
	r := newRig(t, rigConfig{lab: lab.Config{Firewalls: []lab.Firewall{lab.FW4}}, kind: netfilter.KindFW4, autoIncludes: true})
	before := r.nft("-s", "list", "ruleset")
	d := netfilter.Desired{vpn.L2TP: netfilter.ModeAllow, vpn.PPTP: netfilter.ModeBlock}
	ch := r.plan(d)
	t.Logf("dry run of %v:\n%s", d, changesText(ch))
	if after := r.nft("-s", "list", "ruleset"); after != before {
		t.Fatalf("Plan changed the ruleset")
	}
	want := map[string]bool{}
	for _, s := range r.b.cfg.allowSpecs(vpn.L2TP, famInet) {
		want["add inet fw4 forward "+s.text()] = true
	}
	for _, c := range ch {
		delete(want, c.Action+" "+c.Family+" "+c.Table+" "+c.Chain+" "+c.Rule)
		if c.Backend != netfilter.KindFW4 {
			t.Errorf("change backend %q", c.Backend)
		}
	}
	if len(want) > 0 {
		t.Errorf("plan lacks %v; plan:\n%s", want, changesText(ch))
	}
}
