package nft

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/google/nftables"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/test/lab"
)

const e2eTimeout = 700 * time.Millisecond

// TestE2EAllowIPsecThroughLockedFW4: fw4 without lan→wan forwarding rejects
// IKE; after Apply(ipsec=allow) the LAN host's UDP 500 is answered, NATed.
func TestE2EAllowIPsecThroughLockedFW4(t *testing.T) {
	r := newRig(t, rigConfig{lab: fw4Locked, kind: netfilter.KindFW4, autoIncludes: true})
	srv := netip.AddrPortFrom(lab.Server, 500)
	if _, err := r.l.Inet.ServeUDPEcho(srv); err != nil {
		t.Fatal(err)
	}
	if _, _, err := lab.UDPExchange(r.l.LAN, srv, []byte("ike"), e2eTimeout); err == nil {
		t.Fatal("fw4-locked answered UDP 500 before Apply")
	}
	r.apply(netfilter.Desired{vpn.IPsec: netfilter.ModeAllow})
	got, seen, err := lab.UDPExchange(r.l.LAN, srv, []byte("ike"), e2eTimeout)
	if err != nil || string(got) != "ike" {
		t.Fatalf("after allow: %q, %v", got, err)
	}
	if seen.Addr() != r.l.PublicAddr {
		t.Errorf("server saw %s, want the NATed %s", seen.Addr(), r.l.PublicAddr)
	}
	// L2TP was not allowed: still rejected.
	l2tp := netip.AddrPortFrom(lab.Server, 1701)
	if _, err := r.l.Inet.ServeUDPEcho(l2tp); err != nil {
		t.Fatal(err)
	}
	if _, _, err := lab.UDPExchange(r.l.LAN, l2tp, []byte("l2tp"), e2eTimeout); err == nil {
		t.Error("allowing ipsec opened UDP 1701 too")
	}
	r.apply(netfilter.Desired{})
	if _, _, err := lab.UDPExchange(r.l.LAN, srv, []byte("ike"), e2eTimeout); err == nil {
		t.Error("UDP 500 still answered after back to default")
	}
}

// TestE2EBlockL2TPOnOpenFW4: fw4's default forwards LAN→WAN; a block stops
// UDP 1701, also on a flow that was already established.
func TestE2EBlockL2TPOnOpenFW4(t *testing.T) {
	r := newRig(t, rigConfig{lab: lab.Config{Firewalls: []lab.Firewall{lab.FW4}}, kind: netfilter.KindFW4, autoIncludes: true})
	srv := netip.AddrPortFrom(lab.Server, 1701)
	if _, err := r.l.Inet.ServeUDPEcho(srv); err != nil {
		t.Fatal(err)
	}
	var conn *net.UDPConn
	if err := r.l.LAN.Do(func() (err error) {
		conn, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(srv))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := exchange(conn, "first"); err != nil {
		t.Fatalf("fw4 default did not forward UDP 1701: %v", err)
	}
	r.apply(netfilter.Desired{vpn.L2TP: netfilter.ModeBlock})
	if err := exchange(conn, "established"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("established flow after block: %v, want silence", err)
	}
	if _, _, err := lab.UDPExchange(r.l.LAN, srv, []byte("new"), e2eTimeout); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("new flow after block: %v, want silence", err)
	}
	r.apply(netfilter.Desired{})
	if err := exchange(conn, "again"); err != nil {
		t.Errorf("after back to default: %v", err)
	}
}

// exchange sends one datagram on a connected socket and waits for the echo.
func exchange(c *net.UDPConn, payload string) error {
	_ = c.SetDeadline(time.Now().Add(e2eTimeout))
	if _, err := c.Write([]byte(payload)); err != nil {
		return err
	}
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if !strings.HasSuffix(string(buf[:n]), payload) {
		return errors.New("unexpected echo " + string(buf[:n]))
	}
	return nil
}

// TestE2EHelperAssigned: with pptp=allow, a LAN TCP 1723 connection through
// a plain nftables router gets the pptp conntrack helper from our table
// (there is no fw4 helper rule here), and the connection passes.
func TestE2EHelperAssigned(t *testing.T) {
	lab.RequireBinaries(t, "conntrack")
	r := newRig(t, rigConfig{lab: lab.Config{Firewalls: []lab.Firewall{lab.NftablesDrop}}, kind: netfilter.KindNftables})
	srv := netip.AddrPortFrom(lab.Server, 1723)
	if _, err := r.l.Inet.ServeTCPEcho(srv); err != nil {
		t.Fatal(err)
	}
	if _, _, err := lab.TCPExchange(r.l.LAN, srv, []byte("x"), e2eTimeout); err == nil {
		t.Fatal("drop policy let TCP 1723 through before Apply")
	}
	r.apply(netfilter.Desired{vpn.PPTP: netfilter.ModeAllow})
	if got, _, err := lab.TCPExchange(r.l.LAN, srv, []byte("sccrq"), e2eTimeout); err != nil || string(got) != "sccrq" {
		t.Fatalf("TCP 1723 after allow: %q, %v", got, err)
	}
	out, err := r.l.Router.Run("conntrack", "-L", "-p", "tcp", "--dport", "1723")
	if err != nil {
		t.Fatalf("conntrack: %v", err)
	}
	if !strings.Contains(string(out), "helper=pptp") {
		t.Errorf("no pptp helper on the flow:\n%s", out)
	}
}

// TestE2ENetlinkOnly needs no nft binary (it also runs in the big-endian
// VMs): behind a forward chain that drops everything, including replies,
// only our allow and reply rules can let L2TP through, so an answered
// exchange proves their encoding (ct state mask, ct direction, ports,
// interface names) on this kernel's byte order.
func TestE2ENetlinkOnly(t *testing.T) {
	r := newRig(t, rigConfig{lab: lab.Config{}, kind: netfilter.KindNftables})
	strict := r.conn.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: "strict"})
	drop := nftables.ChainPolicyDrop
	r.conn.AddChain(&nftables.Chain{Name: "forward", Table: strict, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &drop})
	if err := r.conn.Flush(); err != nil {
		t.Fatal(err)
	}
	srv := netip.AddrPortFrom(lab.Server, 1701)
	if _, err := r.l.Inet.ServeUDPEcho(srv); err != nil {
		t.Fatal(err)
	}
	if _, _, err := lab.UDPExchange(r.l.LAN, srv, []byte("l2tp"), e2eTimeout); err == nil {
		t.Fatal("strict table let UDP 1701 through before Apply")
	}
	d := netfilter.Desired{vpn.L2TP: netfilter.ModeAllow, vpn.PPTP: netfilter.ModeAllow}
	r.apply(d)
	if ch := r.plan(d); len(ch) != 0 {
		t.Fatalf("drift:\n%s", changesText(ch))
	}
	if got, _, err := lab.UDPExchange(r.l.LAN, srv, []byte("l2tp"), e2eTimeout); err != nil || string(got) != "l2tp" {
		t.Fatalf("after allow: %q, %v", got, err)
	}
	r.cleanup(r.b)
	if r.hasOurTable() || len(r.tagged()) != 0 {
		t.Fatalf("left after cleanup: table %v, tagged %v", r.hasOurTable(), r.tagged())
	}
	if _, _, err := lab.UDPExchange(r.l.LAN, srv, []byte("l2tp"), e2eTimeout); err == nil {
		t.Error("UDP 1701 still passes after cleanup")
	}
}
