package observer

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/vpn"
)

// TestObserverCountsInboundAttempts: fw4's input chain rejects a client's
// IKE and PPTP from the WAN to the router's address, so conntrack confirms
// no entry; the observer counts them as inbound attempts (vpn.DirWAN). The
// answer to the router's own IKE (same ports, reply direction) is not an
// attempt.
func TestObserverCountsInboundAttempts(t *testing.T) {
	l := lab.New(t, lab.Config{Firewalls: []lab.Firewall{lab.FW4}})
	o := ensureObserver(t, l)
	wanAddr := l.RouterWAN.Addr()
	sendUDP(t, l.Inet, netip.AddrPortFrom(wanAddr, vpn.PortIKE), ikePayload)
	sendUDP(t, l.Inet, netip.AddrPortFrom(wanAddr, vpn.PortNATT), ikePayload)
	if _, _, err := lab.TCPExchange(l.Inet, netip.AddrPortFrom(wanAddr, vpn.PortPPTP), []byte("x"), 300*time.Millisecond); err == nil {
		t.Fatal("TCP 1723 to the router's WAN address was accepted; fw4 rejects it")
	}
	if _, err := l.Inet.ServeUDPEcho(netip.AddrPortFrom(lab.Server, vpn.PortIKE)); err != nil {
		t.Fatal(err)
	}
	if !exchange(t, l, l.Router, vpn.PortIKE) {
		t.Fatal("the router's own IKE got no answer")
	}
	got := readObserver(t, o)
	prefix := wanAddr.String() + " " + lab.InetGateway.String() + " "
	for _, el := range []vpn.ObserverElement{vpn.ObsIKE, vpn.ObsIKE4500, vpn.ObsPPTP} {
		if got[prefix+string(el)+" wan"] == 0 {
			t.Errorf("%s: no inbound attempt counted (all: %v)", el, got)
		}
	}
	for k, n := range got {
		if k == wanAddr.String()+" "+lab.Server.String()+" udp/500 wan" {
			t.Errorf("the answer to the router's own IKE counted as an attempt (%d)", n)
		}
	}
	flows, err := conntrack.DumpFootprint(l.Router.Fd())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range flows {
		if f.Orig.Src == lab.InetGateway {
			t.Errorf("conntrack confirmed a rejected attempt: %+v", f)
		}
	}
}
