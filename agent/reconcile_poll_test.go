package agent

import (
	"testing"
	"time"
)

// An idle agent on nftables must not wake every second: the drift poll's
// ticker exists only while an iptables backend wants it.
func TestDriftPollTickerOnlyWhenWanted(t *testing.T) {
	if p := keepTicker(nil, false, time.Millisecond); p != nil || tickC(p) != nil {
		t.Fatal("a ticker without an iptables backend")
	}
	p := keepTicker(nil, true, time.Millisecond)
	if p == nil {
		t.Fatal("no ticker for an iptables backend")
	}
	if q := keepTicker(p, true, time.Millisecond); q != p {
		t.Fatal("the running ticker was replaced")
	}
	select {
	case <-tickC(p):
	case <-time.After(5 * time.Second):
		t.Fatal("the ticker does not tick")
	}
	if p = keepTicker(p, false, time.Millisecond); p != nil {
		t.Fatal("the ticker was kept after iptables left")
	}
}
