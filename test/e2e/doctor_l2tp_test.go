package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/vpnpass/vpnpass/agent/probe"
	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/test/peers/lns"
)

// TestDoctorL2TP: a LAN client speaks plain L2TP (an SCCRQ, as a client
// configured for "L2TP" without IPsec sends first) to two servers. The one
// at lab.Server never answers (UDP 1701 is dropped at the server's side):
// l2tp-unanswered. The other, a real LNS (xl2tpd) at lab.Server2, answers
// with an SCCRP, but no IKE ever went to it: l2tp-without-ipsec, the
// commonest L2TP misconfiguration.
func TestDoctorL2TP(t *testing.T) {
	t.Parallel()
	l := lab.New(t, lab.Config{})
	lns.Start(t, l.Inet, lab.Server2)
	nftIn(t, l.Inet, fmt.Sprintf("add table inet server; add chain inet server input_drop { type filter hook input priority 0; ip daddr %s udp dport 1701 drop; }", lab.Server))
	a := startAgentPublic(t, l)
	for _, c := range []struct {
		server netip.Addr
		want   probe.Outcome
	}{{lab.Server, probe.Silent}, {lab.Server2, probe.Answered}} {
		if got := l2tpFromLAN(t, l, c.server); got.Outcome != c.want {
			t.Fatalf("L2TP SCCRQ to %s: %+v, want %s", c.server, got, c.want)
		}
	}
	silent := key(lab.LANHost.String(), lab.Server.String(), "l2tp")
	answered := key(lab.LANHost.String(), lab.Server2.String(), "l2tp")
	doc := waitDoctor(t, a, silent, answered)
	logFindings(t, doc)
	wantSession(t, doc, silent, "l2tp-unanswered")
	wantSession(t, doc, answered, "l2tp-without-ipsec")
}

// l2tpFromLAN sends an L2TPv2 SCCRQ from the LAN host to server:1701 (the
// probe's request, from a socket opened inside the LAN namespace) and
// returns what came back.
func l2tpFromLAN(t *testing.T, l *lab.Lab, server netip.Addr) probe.Result {
	t.Helper()
	var res []probe.Result
	err := l.LAN.Do(func() (err error) {
		res, err = probe.Run(context.Background(), server, []string{probe.L2TP}, probe.Options{})
		return err
	})
	if err != nil || len(res) != 1 {
		t.Fatalf("L2TP from the LAN to %s: %v %+v", server, err, res)
	}
	return res[0]
}
