package conntrack_test

import (
	"github.com/vpnpass/vpnpass/diagnose"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/test/peers/esppeer"
)

// TestESPMultipleClients: two LAN hosts send raw ESP (no NAT-T) to one
// server. The first holds the NAT mapping for ESP to that server and is
// answered; the second host's ESP clashes with it at the NAT (ESP has no
// ports to tell the two apart), so the kernel never confirms a conntrack
// entry for it: only the observer sees it leave. The second host is told
// esp-multiple-clients, not that this router's firewall drops ESP.
func TestESPMultipleClients(t *testing.T) {
	e := newE2E(t, lab.Config{})
	esppeer.Serve(t, e.l.Inet, lab.Server)
	a := esppeer.Open(t, e.l.LAN, lab.LANHost)
	b := esppeer.Open(t, e.l.LAN2, lab.LANHost2)
	if got := esppeer.Send(t, a, lab.Server, 0xa0001, 3, time.Second); got != 3 {
		t.Fatalf("%d of 3 ESP packets of the first host answered", got)
	}
	if got := esppeer.Send(t, b, lab.Server, 0xb0001, 3, 300*time.Millisecond); got != 0 {
		t.Fatalf("%d ESP packets of the second host answered through the same NAT", got)
	}
	got := e.judge(t, diagnose.Context{})
	for _, f := range got {
		t.Logf("%s %s: %s\n  advice: %s", f.Host, f.Code, f.Message, f.Advice)
	}
	// The first host sent ESP only (no IKE): nothing to judge there.
	wantCodes(t, got, diagnose.CodeESPMultipleClients)
	f := got[0]
	if f.Host != lab.LANHost2.String() || f.Peer != lab.Server.String() {
		t.Errorf("finding names %s → %s, want %s → %s", f.Host, f.Peer, lab.LANHost2, lab.Server)
	}
	if others, _ := f.Params["others"].([]string); len(others) != 1 || others[0] != lab.LANHost.String() {
		t.Errorf("params others = %v, want [%s]", f.Params["others"], lab.LANHost)
	}
	if len(f.Evidence) != 1 || f.Evidence[0].Kind != "observer" || f.Evidence[0].Match != "esp" || f.Evidence[0].Packets != 3 {
		t.Errorf("evidence %+v, want the observer's 3 ESP packets out", f.Evidence)
	}
}
