package ipt

import (
	"errors"
	"github.com/vpnpass/vpnpass/vpn"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/test/lab"
)

// TestApplyModes: every protocol and mode, through each variant with a
// closed FORWARD, in IPv4 and IPv6: applied, read back, idempotent, and
// removed again to the exact ruleset of before.
func TestApplyModes(t *testing.T) {
	for _, v := range Variants {
		t.Run(v, func(t *testing.T) {
			l := lab.New(t, lab.Config{Firewalls: []lab.Firewall{dropFirewall(v)}, IPv6: true})
			b := newBackend(t, l, Options{Variant: v})
			if got := b.Families(); len(got) != 2 {
				t.Fatalf("families %v, want IPv4 and IPv6", got)
			}
			if !inRouter(t, l, func() (bool, error) { return Available(v), nil }) {
				t.Errorf("Available(%s) = false in the router", v)
			}
			before := save(t, l, v)
			for _, p := range vpn.Toggled {
				for _, m := range []netfilter.Mode{netfilter.ModeAllow, netfilter.ModeBlock} {
					d := netfilter.Desired{p: m}
					checkApplied(t, l, b, v, d)
				}
			}
			all := netfilter.Desired{vpn.PPTP: netfilter.ModeAllow, vpn.L2TP: netfilter.ModeBlock, vpn.IPsec: netfilter.ModeAllow}
			checkApplied(t, l, b, v, all)
			if ch := apply(t, l, b, netfilter.Desired{}); len(ch) == 0 {
				t.Error("back to default changed nothing")
			}
			sameDump(t, "after default", save(t, l, v), before)
		})
	}
}

// checkApplied applies d and checks the kernel against the layout, using
// iptables-save as an independent reader.
func checkApplied(t *testing.T, l *lab.Lab, b *Backend, variant string, d netfilter.Desired) {
	t.Helper()
	if ch := apply(t, l, b, d); len(ch) == 0 {
		t.Fatalf("%v: first apply changed nothing", d)
	}
	if ch := plan(t, l, b, d); len(ch) != 0 {
		t.Errorf("%v: plan after apply not empty: %+v", d, ch)
	}
	if ch := apply(t, l, b, d); len(ch) != 0 {
		t.Errorf("%v: second apply changed %+v", d, ch)
	}
	dump := save(t, l, variant)
	for _, f := range []vpn.Family{vpn.IPv4, vpn.IPv6} {
		bin := famName(f) + "-" + variant + "-save"
		lay := desiredLayout(d, f, []string{lab.LANDevice}, []string{l.WANDevice})
		if got := rulesOf(dump, bin, ChainFwd); len(got) != len(lay.fwd) {
			t.Errorf("%v %s: %d rules in %s, want %d:\n%s", d, f, len(got), ChainFwd, len(lay.fwd), strings.Join(got, "\n"))
		}
		if fwd := rulesOf(dump, bin, "FORWARD"); len(fwd) == 0 || !strings.Contains(fwd[0], `"vpnpass:jump" -j vpnpass_fwd`) {
			t.Errorf("%v %s: our jump is not first in FORWARD: %v", d, f, fwd)
		}
		for _, base := range []string{"PREROUTING", "OUTPUT"} {
			jumps := 0
			for _, r := range rulesOf(dump, bin, base) {
				if strings.Contains(r, "-j vpnpass_helper") {
					jumps++
				}
			}
			if want := min(len(lay.helper), 1); jumps != want {
				t.Errorf("%v %s: %d jumps to vpnpass_helper in raw %s, want %d", d, f, jumps, base, want)
			}
		}
		if got := rulesOf(dump, bin, ChainHelper); len(got) != len(lay.helper) {
			t.Errorf("%v %s: %d helper rules, want %d", d, f, len(got), len(lay.helper))
		}
	}
}

// TestFW3: on fw3 our jump sits first in forwarding_rule, FORWARD is not
// touched, and Cleanup gives back fw3's ruleset exactly.
func TestFW3(t *testing.T) {
	l := lab.New(t, lab.Config{Firewalls: []lab.Firewall{lab.FW3Locked}, IPv6: true})
	b := newBackend(t, l, Options{Variant: VariantLegacy, FW3: true})
	if b.Kind() != netfilter.KindFW3 {
		t.Errorf("kind %s, want fw3", b.Kind())
	}
	before := save(t, l, VariantLegacy)
	all := netfilter.Desired{vpn.PPTP: netfilter.ModeAllow, vpn.L2TP: netfilter.ModeAllow, vpn.IPsec: netfilter.ModeBlock}
	apply(t, l, b, all)
	if ch := plan(t, l, b, all); len(ch) != 0 {
		t.Errorf("plan after apply: %+v", ch)
	}
	dump := save(t, l, VariantLegacy)
	for _, bin := range []string{"iptables-legacy-save", "ip6tables-legacy-save"} {
		if fr := rulesOf(dump, bin, chainFW3); len(fr) != 1 || !strings.Contains(fr[0], "-j vpnpass_fwd") {
			t.Errorf("%s forwarding_rule: %v", bin, fr)
		}
		if got, want := rulesOf(dump, bin, "FORWARD"), rulesOf(before, bin, "FORWARD"); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s FORWARD changed:\n%v\nwant\n%v", bin, got, want)
		}
	}
	if err := routerDo(l, b.Cleanup); err != nil {
		t.Fatal(err)
	}
	sameDump(t, "after cleanup", save(t, l, VariantLegacy), before)
}

// TestRollback: a step failing midway, and a read-back that differs (our
// rule removed behind our back), both leave our rules as they were.
func TestRollback(t *testing.T) {
	l := lab.New(t, lab.Config{Firewalls: []lab.Firewall{lab.IptablesLegacyDrop}, IPv6: true})
	b := newBackend(t, l, Options{Variant: VariantLegacy})
	start := netfilter.Desired{vpn.L2TP: netfilter.ModeAllow}
	next := netfilter.Desired{vpn.PPTP: netfilter.ModeAllow, vpn.IPsec: netfilter.ModeBlock}
	apply(t, l, b, start)
	before := save(t, l, VariantLegacy)
	n := len(plan(t, l, b, next))
	injected := errors.New("injected failure")
	cases := []struct {
		name string
		hook func(i int, o op) error
		want string
	}{
		{"step fails midway", func(i int, o op) error {
			if i == n/2 {
				return injected
			}
			return nil
		}, "injected failure"},
		{"step fails last", func(i int, o op) error {
			if i == n-1 {
				return injected
			}
			return nil
		}, "injected failure"},
		{"read back differs", func(i int, o op) error {
			if i != n-1 {
				return nil
			}
			// Someone removes our new jump between our steps.
			_, err := l.Router.Run("iptables-legacy", "-t", "raw", "-D", "PREROUTING", "-m", "comment", "--comment", TagJump, "-j", ChainHelper)
			return err
		}, "read back"},
	}
	for _, c := range cases {
		b.afterOp = c.hook
		err := routerDo(l, func() error { _, err := b.Apply(next); return err })
		b.afterOp = nil
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "rolled back") {
			t.Errorf("%s: error %v, want %q and rolled back", c.name, err, c.want)
		}
		t.Logf("%s: %v", c.name, err)
		sameDump(t, c.name, save(t, l, VariantLegacy), before)
		if ch := plan(t, l, b, start); len(ch) != 0 {
			t.Errorf("%s: state is not the start state: %+v", c.name, ch)
		}
	}
}

// TestDriftRepair: a foreign rule inserted above our jump and one of our
// rules deleted are both seen by Plan and repaired by Apply; the foreign
// rule stays.
func TestDriftRepair(t *testing.T) {
	l := lab.New(t, lab.Config{Firewalls: []lab.Firewall{lab.IptablesNftDrop}})
	b := newBackend(t, l, Options{Variant: VariantNft})
	d := netfilter.Desired{vpn.IPsec: netfilter.ModeAllow}
	apply(t, l, b, d)
	foreign := []string{"-p", "udp", "--dport", "9", "-j", "DROP"}
	if _, err := l.Iptables("nft", append([]string{"-I", "FORWARD", "1"}, foreign...)...); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Iptables("nft", "-D", ChainFwd, "1"); err != nil {
		t.Fatal(err)
	}
	ch := plan(t, l, b, d)
	var got []string
	for _, c := range ch {
		got = append(got, c.Action+" "+c.Rule)
	}
	want := []string{"add -A vpnpass_fwd", "delete -A FORWARD -m comment", "add -I FORWARD 1"}
	if len(got) != len(want) {
		t.Fatalf("drift plan %v, want %v", got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("drift plan[%d] = %q, want prefix %q", i, got[i], want[i])
		}
	}
	apply(t, l, b, d)
	if ch := plan(t, l, b, d); len(ch) != 0 {
		t.Errorf("after repair: %+v", ch)
	}
	fwd := rulesOf(save(t, l, VariantNft), "iptables-nft-save", "FORWARD")
	if len(fwd) < 2 || !strings.Contains(fwd[0], "vpnpass:jump") || !strings.Contains(fwd[1], "--dport 9 -j DROP") {
		t.Errorf("FORWARD after repair: %v", fwd)
	}
}

// TestCleanupBothVariants: rules of both variants (as after a crash or a
// backend switch) are all removed by one Cleanup; untagged rules stay.
func TestCleanupBothVariants(t *testing.T) {
	l := lab.New(t, lab.Config{Firewalls: []lab.Firewall{lab.IptablesLegacyDrop, lab.IptablesNftDrop}, IPv6: true})
	for _, v := range Variants {
		if _, err := l.Iptables(v, "-A", "FORWARD", "-p", "udp", "--dport", "5", "-m", "comment", "--comment", "vpnpass-like but not ours", "-j", "ACCEPT"); err != nil {
			t.Fatal(err)
		}
	}
	before := save(t, l, VariantLegacy) + save(t, l, VariantNft)
	legacy := newBackend(t, l, Options{Variant: VariantLegacy})
	nft := newBackend(t, l, Options{Variant: VariantNft})
	apply(t, l, legacy, netfilter.Desired{vpn.PPTP: netfilter.ModeAllow, vpn.L2TP: netfilter.ModeBlock})
	apply(t, l, nft, netfilter.Desired{vpn.PPTP: netfilter.ModeAllow, vpn.IPsec: netfilter.ModeAllow})
	// A tagged rule in a chain we never use, as an older version might leave.
	if _, err := l.Iptables("ip6tables-nft", "-A", "INPUT", "-m", "comment", "--comment", "vpnpass:l2tp", "-j", "ACCEPT"); err != nil {
		t.Fatal(err)
	}
	if err := routerDo(l, Cleanup); err != nil {
		t.Fatal(err)
	}
	sameDump(t, "after cleanup", save(t, l, VariantLegacy)+save(t, l, VariantNft), before)
	if err := routerDo(l, Cleanup); err != nil {
		t.Errorf("second cleanup: %v", err)
	}
}
