package nft

import (
	"bufio"
	"math/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/google/nftables"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/test/lab"
)

// TestCleanupFindsEverything: Cleanup by a backend configured with other
// LAN devices still removes our table, tagged rules wherever they are (also
// a chain we never use, and a table that no longer drops), and the include.
// Rules of iptables-nft carrying our tag are the iptables backend's and stay.
func TestCleanupFindsEverything(t *testing.T) {
	r := newRig(t, rigConfig{lab: lab.Config{Firewalls: []lab.Firewall{lab.FW4, lab.IptablesNftDrop}},
		kind: netfilter.KindFW4, autoIncludes: true, lan: []string{"br-lan", "br-guest"}})
	r.apply(netfilter.Desired{vpn.PPTP: netfilter.ModeAllow, vpn.L2TP: netfilter.ModeBlock, vpn.IPsec: netfilter.ModeAllow})
	if ch := r.plan(netfilter.Desired{vpn.PPTP: netfilter.ModeAllow, vpn.L2TP: netfilter.ModeBlock, vpn.IPsec: netfilter.ModeAllow}); len(ch) != 0 {
		t.Fatalf("drift with a set of LAN devices:\n%s", changesText(ch))
	}
	// Strays: a tagged rule in fw4's input chain, one in a table of its own.
	r.nft("insert", "rule", "inet", "fw4", "input", `udp dport 1701 accept comment "vpnpass:l2tp"`)
	r.nft("add", "table", "ip", "stray")
	r.nft("add", "chain", "ip", "stray", "c")
	r.nft("add", "rule", "ip", "stray", "c", `meta l4proto gre accept comment "vpnpass:pptp"`)
	_, err := r.l.Iptables("nft", "-I", "FORWARD", "-p", "udp", "--dport", "500", "-m", "comment", "--comment", "vpnpass:ipsec", "-j", "ACCEPT")
	if err != nil {
		t.Fatal(err)
	}
	other := r.backend(netfilter.KindNftables, []string{"eth9"}, false)
	r.cleanup(other)
	if tagged := r.tagged(); len(tagged) != 0 {
		t.Errorf("after cleanup tagged rules = %v", tagged)
	}
	if out, err := r.l.Iptables("nft", "-S", "FORWARD"); err != nil || !strings.Contains(string(out), "vpnpass:ipsec") {
		t.Errorf("cleanup touched iptables-nft's FORWARD chain: %s %v", out, err)
	}
	if r.hasOurTable() {
		t.Error("our table survived cleanup")
	}
	if _, err := os.Stat(r.b.cfg.includeFile()); err == nil {
		t.Error("include file survived cleanup")
	}
}

// TestStrayInNonTargetChain: a tagged rule in a forward chain that cannot
// drop (so is no target) is drift: Plan removes it.
func TestStrayInNonTargetChain(t *testing.T) {
	r := newRig(t, rigConfig{lab: lab.Config{Firewalls: []lab.Firewall{lab.NftablesDrop}}, kind: netfilter.KindNftables})
	r.nft("add", "table", "inet", "open")
	r.nft("add", "chain", "inet", "open", "fw", "{ type filter hook forward priority 5; policy accept; }")
	r.nft("add", "rule", "inet", "open", "fw", `udp dport 1701 accept comment "vpnpass:l2tp"`)
	ch := r.plan(netfilter.Desired{})
	if len(ch) != 1 || ch[0].Action != "delete" || ch[0].Table != "open" {
		t.Fatalf("plan = \n%s, want one delete in inet open", changesText(ch))
	}
	d := netfilter.Desired{vpn.L2TP: netfilter.ModeAllow}
	r.apply(d)
	if got := r.tagged(); got["inet open fw"] != 0 || got["inet filter forward"] == 0 {
		t.Errorf("tagged = %v: want rules only in the dropping inet filter", got)
	}
}

// killChildEnv makes the test binary a child that applies in a loop until
// killed (see TestKilledChild).
const killChildEnv = "VPNPASS_NFT_KILL_CHILD_ROOT"

// TestKilledChild is the child side: it alternates desired states forever.
func TestKilledChild(t *testing.T) {
	root := os.Getenv(killChildEnv)
	if root == "" {
		t.Skip("child of TestCleanupAfterKill only")
	}
	b, err := New(Options{Kind: netfilter.KindFW4, LANDevices: []string{"br-lan", "br-guest"}, WAN: netfilter.OneWAN("eth1"),
		Root: root, AutoIncludes: true})
	if err != nil {
		t.Fatal(err)
	}
	states := []netfilter.Desired{allAllow,
		{vpn.PPTP: netfilter.ModeBlock, vpn.L2TP: netfilter.ModeBlock, vpn.IPsec: netfilter.ModeAllow},
		{vpn.PPTP: netfilter.ModeAllow}, {}}
	for i := 0; ; i++ {
		if _, err := b.Apply(states[i%len(states)]); err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("applied\n")
	}
}

// TestCleanupAfterKill: a process killed with SIGKILL at a random moment of
// a stream of Applies leaves whatever it had; Cleanup by a fresh backend
// (with other LAN devices) removes all of it.
func TestCleanupAfterKill(t *testing.T) {
	r := newRig(t, rigConfig{lab: lab.Config{Firewalls: []lab.Firewall{lab.FW4}}, kind: netfilter.KindFW4, autoIncludes: true})
	before := r.listTable("inet", "fw4")
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for round := 0; round < 3; round++ {
		cmd := r.l.Router.Command(os.Args[0], "-test.run=^TestKilledChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), killChildEnv+"="+r.root)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := r.l.Router.StartCmd(cmd); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		want, n := 2+rng.Intn(6), 0
		for n < want && sc.Scan() {
			if strings.HasPrefix(sc.Text(), "applied") {
				n++
			}
		}
		if n < want {
			_ = cmd.Process.Kill()
			t.Fatalf("child stopped after %d applies", n)
		}
		time.Sleep(time.Duration(rng.Intn(3000)) * time.Microsecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		r.cleanup(r.backend(netfilter.KindFW4, []string{"lan9"}, true))
		r.assertNothingOfOurs()
		if after := r.listTable("inet", "fw4"); after != before {
			t.Fatalf("round %d: fw4 differs after cleanup:\n%s", round, lineDiff(before, after))
		}
	}
}

// lineDiff lists the lines only one of two listings has.
func lineDiff(a, b string) string {
	count := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(b, "\n") {
		count[l]--
	}
	var out []string
	for l, n := range count {
		if n > 0 {
			out = append(out, "- "+l)
		} else if n < 0 {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// TestAllowInEveryDroppingChain: on a plain nftables router the allow goes
// into every forward base chain that can drop (by policy, or through a jump
// to a reject), with the rules of that table's family only (no AH in an ip
// table, only IPv6 elements in an ip6 one), and into none that cannot.
func TestAllowInEveryDroppingChain(t *testing.T) {
	r := newRig(t, rigConfig{lab: lab.Config{Firewalls: []lab.Firewall{lab.NftablesDrop}}, kind: netfilter.KindNftables})
	for _, cmd := range [][]string{
		{"add", "table", "ip6", "extra"},
		{"add", "chain", "ip6", "extra", "sub"},
		{"add", "rule", "ip6", "extra", "sub", "meta l4proto esp reject"},
		{"add", "chain", "ip6", "extra", "fw", "{ type filter hook forward priority 5; policy accept; }"},
		{"add", "rule", "ip6", "extra", "fw", "jump sub"},
		{"add", "table", "ip", "open4"},
		{"add", "chain", "ip", "open4", "fw", "{ type filter hook forward priority 5; policy accept; }"},
		{"add", "rule", "ip", "open4", "fw", "counter"},
	} {
		r.nft(cmd...)
	}
	d := netfilter.Desired{vpn.IPsec: netfilter.ModeAllow}
	r.apply(d)
	if ch := r.plan(d); len(ch) != 0 {
		t.Fatalf("drift:\n%s", changesText(ch))
	}
	got := r.tagged()
	want := map[string]int{
		"inet filter forward": len(r.b.cfg.allowSpecs(vpn.IPsec, famInet)),
		"ip6 extra fw":        len(r.b.cfg.allowSpecs(vpn.IPsec, famIP6)),
	}
	if len(got) != len(want) || got["inet filter forward"] != want["inet filter forward"] || got["ip6 extra fw"] != want["ip6 extra fw"] {
		t.Errorf("tagged rules %v, want %v", got, want)
	}
	if ip6 := r.nft("list", "chain", "ip6", "extra", "fw"); !strings.Contains(ip6, "meta l4proto ah") {
		t.Errorf("ip6 table lacks the AH allow:\n%s", ip6)
	}
	r.cleanup(r.b)
	r.assertNothingOfOurs()
}

// TestForeignCtDirectionRules: google/nftables v0.3.0 cannot read rules with
// `ct original ...` (it decodes the direction attribute with the wrong
// size); our own decoder takes over, so such a foreign chain is handled, and
// a rule of ours altered with such a match is seen as drift.
func TestForeignCtDirectionRules(t *testing.T) {
	r := newRig(t, rigConfig{lab: lab.Config{Firewalls: []lab.Firewall{lab.NftablesDrop}}, kind: netfilter.KindNftables})
	r.nft("add", "rule", "inet", lab.NftablesDropTable, "forward", "ct original ip saddr 192.0.2.1 drop")
	d := netfilter.Desired{vpn.L2TP: netfilter.ModeAllow}
	r.apply(d)
	if ch := r.plan(d); len(ch) != 0 {
		t.Fatalf("drift:\n%s", changesText(ch))
	}
	tab := &nftables.Table{Family: nftables.TableFamilyINet, Name: lab.NftablesDropTable}
	h := r.taggedHandles(tab, "forward")[0]
	r.nft("replace", "rule", "inet", lab.NftablesDropTable, "forward", "handle", h,
		`iifname "br-lan" oifname "eth1" ct original ip daddr 203.0.113.10 udp dport 1701 accept comment "vpnpass:l2tp"`)
	if ch := r.plan(d); len(ch) != 2 {
		t.Fatalf("altered rule: plan\n%s, want a delete and an add", changesText(ch))
	}
	r.apply(d)
	if ch := r.plan(d); len(ch) != 0 {
		t.Fatalf("drift after repair:\n%s", changesText(ch))
	}
	r.cleanup(r.b)
	r.assertNothingOfOurs()
}
