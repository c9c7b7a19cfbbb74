package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/test/lab"
)

// TestLifeSetAcknowledgedIsDurable (issue 15 §1): a set that answered ok
// has its passthrough.changed event on disk, even when the agent is killed
// the instant the answer arrives. On a router whose status is quick
// (nftables alone, no fw4) the answer comes well within the history's
// 200 ms batch window: before the set flushed the history, the event
// still waited for its batch and a kill lost it.
func TestLifeSetAcknowledgedIsDurable(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.NftablesDrop}})
	a := startAgent(t, l, "default", "default", "allow")
	mode := "allow"
	for i := 0; i < lifeCount(5, 50); i++ {
		mode = map[string]string{"allow": "block", "block": "allow"}[mode]
		s := ackedSet{proto: "ipsec", mode: mode, sent: time.Now()}
		c, err := api.Dial(a.socket)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err = c.Call(ctx, "set", api.SetParams{Protocol: "ipsec", Mode: mode}, nil)
		cancel()
		s.done = time.Now()
		if err != nil {
			t.Fatalf("set ipsec %s: %v", mode, err)
		}
		a.kill9(t) // the instant the answer came
		c.Close()
		a.start(t)
		evs := a.events(t, historyParams{Kind: "passthrough.changed", Limit: 1000})
		if !hasChange(evs, s) {
			t.Fatalf("round %d: set ipsec %s answered ok after %v, the agent was killed at once, and its passthrough.changed is not in the history",
				i, mode, s.done.Sub(s.sent).Round(time.Millisecond))
		}
	}
}
