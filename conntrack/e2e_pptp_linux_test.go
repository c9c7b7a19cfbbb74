package conntrack_test

import (
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/diagnose"
	"github.com/vpnpass/vpnpass/test/golden"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/test/peers/pptppeer"
)

// pptpHelperRules assigns the kernel's PPTP helper to LAN TCP 1723, from a
// table of the router's own (helper objects are table-scoped).
const pptpHelperRules = `table inet pptp_helper {
	ct helper pptp { type "pptp" protocol tcp; l3proto ip; }
	chain pre { type filter hook prerouting priority filter; meta nfproto ipv4 tcp dport 1723 ct helper set "pptp"; }
}`

// pptpCall runs one PPTP call from the LAN host to a PPTP server in the
// inet namespace and returns how many of n GRE packets came back.
func pptpCall(t *testing.T, e *e2e, n int) int {
	t.Helper()
	var srv *pptppeer.Server
	if err := e.l.Inet.Do(func() (err error) { srv, err = pptppeer.Listen(lab.Server); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	var cli *pptppeer.Client
	if err := e.l.LAN.Do(func() (err error) {
		cli, err = pptppeer.Dial(lab.LANHost, lab.Server, 0x1234, 2*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cli.Close)
	if err := cli.Handshake(2 * time.Second); err != nil {
		t.Fatalf("PPTP control connection: %v", err)
	}
	got, err := cli.ExchangeGRE(n, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func isGRE(ev conntrack.Event) bool { return ev.Flow.L4 == vpn.ProtoGRE }

// TestPPTPNoHelper: no helper on the control connection. The call is set
// up over TCP 1723, but the server's GRE comes back to the router itself
// (a keyless, unreplied GRE entry toward the WAN address): pptp-no-helper.
func TestPPTPNoHelper(t *testing.T) {
	e := newE2E(t, lab.Config{})
	if got := pptpCall(t, e, 3); got != 0 {
		t.Fatalf("%d GRE echoes came back without a helper", got)
	}
	e.wait(t, "GRE back to the router", 5*time.Second, func(ev conntrack.Event) bool {
		return isGRE(ev) && ev.Flow.Orig.Src == lab.Server
	})
	got := e.judge(t, diagnose.Context{PPTPHelper: "builtin"})
	wantCodes(t, got, diagnose.CodePPTPNoHelper)
	inbound := false
	for _, ev := range got[0].Evidence {
		inbound = inbound || (ev.Proto == "gre" && ev.Src == lab.Server.String())
	}
	if !inbound {
		t.Errorf("evidence lacks the server's GRE to the router: %+v", got[0].Evidence)
	}
}

// TestPPTPHelperGREBlocked: the helper maps the call, but GRE is dropped
// beyond the router: gre-blocked.
func TestPPTPHelperGREBlocked(t *testing.T) {
	lab.RequireBinaries(t, "nft")
	e := newE2E(t, lab.Config{})
	if out, err := e.l.Router.Run("nft", pptpHelperRules); err != nil {
		t.Fatalf("assign the pptp helper: %v: %s", err, out)
	}
	dropBeyond(t, e.l, "ip protocol gre")
	if got := pptpCall(t, e, 3); got != 0 {
		t.Fatalf("%d GRE echoes came back although GRE is dropped", got)
	}
	e.wait(t, "GRE flow", 5*time.Second, isGRE)
	wantCodes(t, e.judge(t, diagnose.Context{PPTPHelper: "builtin", PPTPAssigned: true}), diagnose.CodeGREBlocked)
}

// TestPPTPHelperOK: with the helper, GRE crosses the NAT both ways: vpn-ok.
func TestPPTPHelperOK(t *testing.T) {
	lab.RequireBinaries(t, "nft")
	e := newE2E(t, lab.Config{})
	if out, err := e.l.Router.Run("nft", pptpHelperRules); err != nil {
		t.Fatalf("assign the pptp helper: %v: %s", err, out)
	}
	if got := pptpCall(t, e, 3); got != 3 {
		t.Fatalf("%d of 3 GRE echoes came back through the helper", got)
	}
	e.wait(t, "answered GRE", 5*time.Second, func(ev conntrack.Event) bool { return isGRE(ev) && ev.Flow.Status.SeenReply() })
	got := e.judge(t, diagnose.Context{PPTPHelper: "builtin", PPTPAssigned: true})
	wantCodes(t, got, diagnose.CodeOK)
	for _, ev := range got[0].Evidence {
		if ev.Proto == "gre" && (ev.SrcKey == 0 || ev.DstKey == 0) {
			t.Errorf("GRE evidence without both call IDs: %+v", ev)
		}
		if ev.Proto == "tcp" && ev.Helper != "pptp" {
			t.Errorf("control connection without the helper: %+v", ev)
		}
	}
}

// TestPPTPDoubleNAT: this router assigns the helper, the upstream NAT does
// not. GRE dies at the upstream box: gre-blocked, and beside it
// vpn-behind-double-nat names the box that needs passthrough.
func TestPPTPDoubleNAT(t *testing.T) {
	lab.RequireBinaries(t, "nft")
	e := newE2E(t, lab.Config{Topology: lab.Double})
	if out, err := e.l.Router.Run("nft", pptpHelperRules); err != nil {
		t.Fatalf("assign the pptp helper: %v: %s", err, out)
	}
	if got := pptpCall(t, e, 3); got != 0 {
		t.Fatalf("%d GRE echoes crossed an upstream NAT without a helper", got)
	}
	e.wait(t, "GRE flow", 5*time.Second, isGRE)
	nat := diagnose.NATVerdict{Code: vpn.NATDouble, Class: "private", Device: e.l.WANDevice, Address: e.l.RouterWAN.Addr().String()}
	got := e.judge(t, diagnose.Context{PPTPHelper: "builtin", PPTPAssigned: true, NAT: nat})
	wantCodes(t, got, diagnose.CodeGREBlocked, diagnose.CodeDoubleNAT)
	golden.JSON(t, "testdata/e2e/pptp-double-nat.json", codeLines(got))
}
