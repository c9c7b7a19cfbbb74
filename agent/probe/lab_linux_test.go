package probe_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/probe"
	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/test/peers/lns"
	"github.com/vpnpass/vpnpass/test/peers/pptppeer"
	"github.com/vpnpass/vpnpass/test/peers/swan"
)

// Short waits: the lab answers in well under a millisecond, so 200 ms and
// two retries (1.4 s in all) only lengthen the silent cases.
var labOpts = probe.Options{Timeout: 200 * time.Millisecond, Retries: 2}

// probeFrom runs the probe on a thread inside node's namespace (Run opens
// its sockets on the calling thread).
func probeFrom(t *testing.T, node *lab.Node, protocols ...string) []probe.Result {
	t.Helper()
	var res []probe.Result
	err := node.Do(func() (err error) {
		res, err = probe.Run(context.Background(), lab.Server, protocols, labOpts)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		t.Logf("%s %s/%d: %s in %.2f ms: %s", r.Protocol, r.Transport, r.Port, r.Outcome, r.RTTMs, r.Detail)
	}
	return res
}

type want struct {
	port    int
	outcome probe.Outcome
	detail  string // substring
}

func check(t *testing.T, res []probe.Result, wants ...want) {
	t.Helper()
	if len(res) != len(wants) {
		t.Fatalf("%d results, want %d", len(res), len(wants))
	}
	for i, w := range wants {
		if r := res[i]; r.Port != w.port || r.Outcome != w.outcome || !strings.Contains(r.Detail, w.detail) {
			t.Errorf("result %d = %+v, want port %d %s with %q", i, r, w.port, w.outcome, w.detail)
		}
	}
}

// nftIn loads a throw-away table into node (test fixture only).
func nftIn(t *testing.T, node *lab.Node, ruleset string) {
	t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft")
	}
	if out, err := node.Run("nft", ruleset); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
}

// TestLabAll is issue 5's case: strongSwan responder, the PPTP test server
// and a silent L2TP port give answered, answered, silent.
func TestLabAll(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Single})
	srv := swan.Start(t, l.Inet, swan.Config{Role: swan.Responder})
	var pptp *pptppeer.Server
	if err := l.Inet.Do(func() (err error) { pptp, err = pptppeer.Listen(lab.Server); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pptp.Close)
	nftIn(t, l.Inet, "add table inet t; add chain inet t in { type filter hook input priority 0; udp dport 1701 drop; }")

	res := probeFrom(t, l.Router)
	check(t, res,
		want{500, probe.Answered, "proposal accepted: aes256-sha256-prfsha256-x25519"},
		want{4500, probe.Answered, "proposal accepted: aes256-sha256-prfsha256-x25519"},
		want{1723, probe.Answered, "SCCRP from host vpnpass-lab (vendor vpnpass), connection established"},
		want{1701, probe.Silent, "no reply to 3 requests"})
	// strongSwan answered the IKE_SA_INIT that came straight to 4500.
	if logs := srv.Logs(); !strings.Contains(logs, "to "+lab.Server.String()+"[4500]") ||
		strings.Count(logs, "generating IKE_SA_INIT response") != 2 {
		t.Errorf("responder did not answer IKE_SA_INIT on both ports:\n%s", logs)
	}
}

// TestLabIKEAnswers: whatever a responder thinks of our offer, it answers.
func TestLabIKEAnswers(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Single})
	tests := []struct{ proposals, detail string }{
		{"aes256gcm16-prfsha384-x25519", "proposal accepted: aes256gcm16-prfsha384-x25519"},
		{"aes256-sha256-modp2048", "INVALID_KE_PAYLOAD: the server wants DH group modp2048"},
		{"aes256-sha256-modp4096", "NO_PROPOSAL_CHOSEN"},
	}
	for _, tt := range tests {
		t.Run(tt.proposals, func(t *testing.T) {
			srv := swan.Start(t, l.Inet, swan.Config{Role: swan.Responder, Proposals: tt.proposals})
			defer srv.Stop() // the next responder needs the ports
			check(t, probeFrom(t, l.Router, probe.IPsec), want{500, probe.Answered, tt.detail}, want{4500, probe.Answered, tt.detail})
		})
	}
}

// TestLabRefused: nothing listens (ICMP port unreachable, TCP reset), and
// this router's own output chain drops (EPERM).
func TestLabRefused(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Single})
	check(t, probeFrom(t, l.Router),
		want{500, probe.Refused, "ICMP port unreachable"},
		want{4500, probe.Refused, "ICMP port unreachable"},
		want{1723, probe.Refused, "TCP reset"},
		want{1701, probe.Refused, "ICMP port unreachable"})
	nftIn(t, l.Router, "add table inet t; add chain inet t out { type filter hook output priority 0; udp dport 1701 drop; }")
	check(t, probeFrom(t, l.Router, probe.L2TP), want{1701, probe.Refused, "this router's own firewall"})
}

// TestLabIKEDroppedUpstream: UDP 500 dropped by the upstream NAT of a
// double-NAT lab leaves IKE silent on 500 while 4500 still answers.
func TestLabIKEDroppedUpstream(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Double})
	swan.Start(t, l.Inet, swan.Config{Role: swan.Responder})
	nftIn(t, l.ISP, "add table inet t; add chain inet t f { type filter hook forward priority 0; udp dport 500 drop; }")
	check(t, probeFrom(t, l.Router, probe.IPsec),
		want{500, probe.Silent, "no reply to 3 requests"},
		want{4500, probe.Answered, "proposal accepted"})
}

// TestLabL2TPServer: a real LNS (xl2tpd) answers the SCCRQ with an SCCRP.
func TestLabL2TPServer(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Single})
	lns.Start(t, l.Inet, lab.Server)
	check(t, probeFrom(t, l.Router, probe.L2TP), want{1701, probe.Answered, "SCCRP from host lab-lns (vendor xelerance.com)"})
}
