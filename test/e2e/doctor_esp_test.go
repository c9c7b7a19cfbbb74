package e2e

import (
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/test/peers/esppeer"
)

// TestDoctorESPMultipleClients: two LAN hosts send raw ESP (IP protocol 50,
// no NAT-T) to one server. The first holds this router's NAT mapping for
// ESP to that server and is answered. ESP has no ports, so the second
// host's packets clash with that mapping and the kernel drops them before
// conntrack confirms an entry: only the observer sees them leave. The
// agent tells the second host esp-multiple-clients (not that this router's
// firewall drops ESP).
func TestDoctorESPMultipleClients(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Config{})
	a := startAgentPublic(t, l)
	esppeer.Serve(t, l.Inet, lab.Server)
	first, second := esppeer.Open(t, l.LAN, lab.LANHost), esppeer.Open(t, l.LAN2, lab.LANHost2)
	if got := esppeer.Send(t, first, lab.Server, 0xa0001, 3, time.Second); got != 3 {
		t.Fatalf("%d of 3 ESP packets of the first host answered", got)
	}
	if got := esppeer.Send(t, second, lab.Server, 0xb0001, 3, 300*time.Millisecond); got != 0 {
		t.Fatalf("%d ESP packets of the second host answered through the same NAT", got)
	}
	k := key(lab.LANHost2.String(), lab.Server.String(), "ipsec")
	doc := waitDoctor(t, a, k)
	logFindings(t, doc)
	wantSession(t, doc, k, "esp-multiple-clients")
	// The first host sent ESP without IKE: nothing to judge there.
	wantSession(t, doc, key(lab.LANHost.String(), lab.Server.String(), "ipsec"))
	for _, f := range doc.Findings {
		if others, _ := f.Params["others"].([]any); f.Code == "esp-multiple-clients" && (len(others) != 1 || others[0] != lab.LANHost.String()) {
			t.Errorf("esp-multiple-clients names the other hosts %v, want [%s]", f.Params["others"], lab.LANHost)
		}
	}
}
