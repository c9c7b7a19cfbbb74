package e2e

import (
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/test/peers/swan"
)

// TestDoctorIKEUnansweredDoubleNAT: a real strongSwan client in the LAN
// tries a real responder, but the upstream home router (the isp namespace
// of a double NAT) drops UDP 500. This router forwards and NATs the IKE
// requests, none is answered; charon gives up after its retransmits. The
// agent says ike-unanswered, names the double NAT beside it, and never
// calls the session healthy.
func TestDoctorIKEUnansweredDoubleNAT(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Config{Topology: lab.Double})
	nftIn(t, l.ISP, "add table inet upstream; add chain inet upstream forward_drop { type filter hook forward priority 0; udp dport 500 drop; }")
	a := startAgent(t, l)
	swan.Start(t, l.Inet, swan.Config{Role: swan.Responder})
	cli := swan.Start(t, l.LAN, swan.Config{Role: swan.Initiator})
	start := time.Now()
	if err := cli.Initiate(30 * time.Second); err == nil {
		t.Fatal("IKE succeeded although the upstream router drops UDP 500")
	}
	t.Logf("charon gave up after %v", time.Since(start).Round(time.Second))
	k := key(lab.LANHost.String(), lab.Server.String(), "ipsec")
	doc := waitDoctor(t, a, k)
	logFindings(t, doc)
	wantSession(t, doc, k, "ike-unanswered", "vpn-behind-double-nat")
	for _, f := range doc.Findings {
		if f.Code == "ike-unanswered" && (f.Params["port"] != float64(500) || f.Params["transport"] != "udp") {
			t.Errorf("ike-unanswered params %v, want port 500 over udp", f.Params)
		}
		if f.Code == "vpn-behind-double-nat" && f.Params["wan_address"] != l.RouterWAN.Addr().String() {
			t.Errorf("double NAT names WAN address %v, want %s", f.Params["wan_address"], l.RouterWAN.Addr())
		}
	}
	t.Logf("judged %v after the first request", time.Since(start).Round(time.Second))
}
