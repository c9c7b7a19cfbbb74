package e2e

import (
	"encoding/json"
	"testing"

	"github.com/vpnpass/vpnpass/test/lab"
)

// TestStatusFollowsForeignChanges: the agent reuses its last status while
// nothing it is made of changed (agent/statuscache.go). A foreign change
// made behind the agent's back between two status calls must show in the
// second one: through the nftables generation, and on iptables-legacy,
// which has no generation, because nothing is reused there. The change is
// one the agent leaves alone (the router's NAT goes: masquerade goes). A
// foreign drop of VPN traffic is no such change: in allow mode the agent
// puts its accepts first into every forward base chain, a new foreign one
// included, so the verdict returns to accept once it reacts; a test that
// expected drop there passed only while it won that race.
func TestStatusFollowsForeignChanges(t *testing.T) {
	lab.Require(t)
	masq := func(t *testing.T, st cachedStatus) string {
		if st.Masquerade {
			return "masquerade"
		}
		return "none"
	}
	tests := []struct {
		fw            lab.Firewall
		change        func(l *lab.Lab) ([]byte, error)
		look          func(*testing.T, cachedStatus) string
		before, after string
	}{
		{lab.NftablesDrop, func(l *lab.Lab) ([]byte, error) {
			return l.Nft("delete", "table", "ip", "lab_nat")
		}, masq, "masquerade", "none"},
		{lab.IptablesLegacyDrop, func(l *lab.Lab) ([]byte, error) {
			return l.Iptables("legacy", "-t", "nat", "-F", "POSTROUTING")
		}, masq, "masquerade", "none"},
	}
	for _, tc := range tests {
		t.Run(string(tc.fw), func(t *testing.T) {
			l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{tc.fw}})
			a := startAgent(t, l, "allow", "allow", "allow")
			for i := 0; i < 3; i++ { // the later calls may come from the cache
				if got := tc.look(t, a.status(t)); got != tc.before {
					t.Fatalf("call %d before the foreign change: %s, want %s", i, got, tc.before)
				}
			}
			if out, err := tc.change(l); err != nil {
				t.Fatalf("foreign change: %v\n%s", err, out)
			}
			if got := tc.look(t, a.status(t)); got != tc.after {
				t.Errorf("after the foreign change: %s, want %s", got, tc.after)
			}
		})
	}
}

type cachedStatus struct {
	fullStatus
	Masquerade bool `json:"masquerade"`
}

// status is the agent's status through its socket (`vpnpass status --json`).
func (a *agentRun) status(t *testing.T) cachedStatus {
	t.Helper()
	out, err := a.cli("status", "--json")
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	var st cachedStatus
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, out)
	}
	return st
}
