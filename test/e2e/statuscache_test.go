package e2e

import (
	"encoding/json"
	"testing"

	"github.com/vpnpass/vpnpass/test/lab"
)

// TestStatusFollowsForeignChanges: the agent reuses its last status while
// nothing it is made of changed (agent/statuscache.go). A foreign change
// made behind the agent's back between two status calls must show in the
// second one: through the nftables generation (a table dropping IKE), and
// on iptables-legacy, which has no generation, because nothing is reused
// there (its NAT flushed: masquerade goes; a foreign FORWARD drop would be
// overtaken by the agent's repair, which puts its jump first again).
func TestStatusFollowsForeignChanges(t *testing.T) {
	lab.Require(t)
	ikeVerdict := func(t *testing.T, st cachedStatus) string {
		v, _, _, _ := element(t, st.fullStatus, "ipsec", "udp/500")
		return v
	}
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
		{lab.NftablesDrop, nftDropIKE, ikeVerdict, "accept", "drop"},
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

// nftDropIKE adds a foreign table whose forward chain drops UDP 500.
func nftDropIKE(l *lab.Lab) ([]byte, error) {
	if out, err := l.Nft("add", "table", "inet", "foreign"); err != nil {
		return out, err
	}
	if out, err := l.Nft("add", "chain", "inet", "foreign", "block", "{ type filter hook forward priority -300; }"); err != nil {
		return out, err
	}
	return l.Nft("add", "rule", "inet", "foreign", "block", "udp", "dport", "500", "drop")
}
