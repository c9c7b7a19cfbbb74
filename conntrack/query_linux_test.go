package conntrack_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/vpn"
)

// TestEntryRequestsIPv6: Refresh and DeleteFootprints find an IPv6 entry.
// The request's family must be the tuple's (the kernel parses the addresses
// by it); ti-mo's Delete sent IPv4 for a query without a reply tuple, and
// the kernel answered EINVAL for every IPv6 entry.
func TestEntryRequestsIPv6(t *testing.T) {
	lab.Require(t)
	l := lab.New(t, lab.Config{IPv6: true})
	ensureObserver(t, l) // its ct rules make the router track IPv6
	srv := netip.AddrPortFrom(lab.Server6, vpn.PortIKE)
	if _, err := l.Inet.ServeUDPEcho(srv); err != nil {
		t.Fatal(err)
	}
	// A few tries: the first datagram may wait for neighbour discovery.
	var err error
	for try := 0; try < 3; try++ {
		if _, _, err = lab.UDPExchange(l.LAN, srv, []byte("x"), time.Second); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("IPv6 UDP exchange: %v", err)
	}
	var flows []conntrack.Flow
	if err := l.Router.Do(func() (err error) { flows, err = conntrack.DumpFootprint(0); return err }); err != nil || len(flows) == 0 || !flows[0].Orig.Src.Is6() {
		t.Fatalf("dump: %v %v, want the IPv6 UDP 500 flow (one per try)", flows, err)
	}
	var got []conntrack.Flow
	if err := l.Router.Do(func() (err error) { got, err = conntrack.Refresh(flows); return err }); err != nil || len(got) != len(flows) || got[0].ID != flows[0].ID {
		t.Fatalf("refresh: %+v %v, want the same entries (%+v)", got, err, flows)
	}
	var n int
	if err := l.Router.Do(func() (err error) {
		n, err = conntrack.DeleteFootprints([]conntrack.FlowMatch{{L4: vpn.ProtoUDP, Port: vpn.PortIKE}})
		return err
	}); err != nil || n != len(flows) {
		t.Fatalf("delete: %d %v, want %d entries", n, err, len(flows))
	}
	if err := l.Router.Do(func() (err error) { got, err = conntrack.Refresh(flows); return err }); err != nil || len(got) != 0 {
		t.Fatalf("after delete: %+v %v, want the entry gone", got, err)
	}
}
