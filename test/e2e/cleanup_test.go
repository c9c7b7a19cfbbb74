package e2e

import (
	"testing"

	"github.com/vpnpass/vpnpass/test/lab"
)

// TestCleanupAfterKill: an agent killed with SIGKILL leaves its rules behind
// (it had no chance to clean up); `vpnpass cleanup` removes all of them, in
// nftables and in both iptables variants, and nothing else.
func TestCleanupAfterKill(t *testing.T) {
	for _, fws := range [][]lab.Firewall{
		{lab.FW4Locked, lab.IptablesNftDrop},
		{lab.IptablesLegacyDrop},
		{lab.FW3Locked},
	} {
		t.Run(string(fws[0]), func(t *testing.T) {
			l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: fws})
			before := foreignRuleset(t, l)
			a := startAgent(t, l, "allow", "block", "allow")
			if n := taggedRules(t, l); n == 0 {
				t.Fatal("the agent installed nothing for allow/block/allow")
			}
			if err := a.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = a.cmd.Wait()
			if n := taggedRules(t, l); n == 0 {
				t.Fatal("SIGKILL cannot clean up, yet nothing of ours is left: the test proves nothing")
			}
			if out, err := l.Router.Run(vpnpassBin, "cleanup"); err != nil {
				t.Fatalf("cleanup: %v\n%s", err, out)
			}
			if n := taggedRules(t, l); n != 0 {
				out, _ := l.Nft("list", "ruleset")
				t.Fatalf("%d vpnpass objects left after cleanup:\n%s", n, firstLines(string(out), 60))
			}
			if after := foreignRuleset(t, l); after != before {
				t.Errorf("cleanup changed the foreign ruleset:\n%s", lineDiff(before, after))
			}
		})
	}
}
