package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/probe"
	"github.com/vpnpass/vpnpass/test/lab"
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
	startXL2TPD(t, l.Inet, lab.Server2)
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

// startXL2TPD runs a real L2TP server (xl2tpd) on addr:1701 in node.
func startXL2TPD(t *testing.T, node *lab.Node, addr netip.Addr) {
	t.Helper()
	if _, err := exec.LookPath("xl2tpd"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs xl2tpd (Debian package xl2tpd)")
		}
		t.Skip("needs xl2tpd (Debian package xl2tpd)")
	}
	dir := t.TempDir()
	conf := fmt.Sprintf("[global]\nlisten-addr = %s\nport = 1701\n\n[lns default]\nip range = 10.98.0.2-10.98.0.20\n"+
		"local ip = 10.98.0.1\nrequire authentication = no\nhostname = lab-lns\n", addr)
	path := filepath.Join(dir, "xl2tpd.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd, err := node.Start("xl2tpd", "-D", "-c", path, "-p", filepath.Join(dir, "pid"), "-C", filepath.Join(dir, "control"))
	if err != nil {
		t.Fatal(err)
	}
	// It listens before it creates its control pipe.
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "control")); err == nil {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("xl2tpd did not start: %s", cmd.Stdout)
		}
	}
}
