package conntrack_test

import (
	"net"
	"net/netip"
	"testing"
	"time"

	ct "github.com/ti-mo/conntrack"

	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/test/lab"
)

// TestRefreshReadsCounters: Refresh reads an entry again by its original
// tuple, with the counters as they are now (what an offloaded flow shows:
// its packets produce no events), and leaves out an entry that is gone.
// This kernel has no flowtables, so a plain forwarded UDP flow stands in.
func TestRefreshReadsCounters(t *testing.T) {
	lab.Require(t)
	l := lab.New(t, lab.Config{})
	if err := l.Router.Sysctl("net/netfilter/nf_conntrack_acct", "1"); err != nil {
		t.Fatal(err)
	}
	srv := netip.AddrPortFrom(lab.Server, 500)
	echo, err := l.Inet.ServeUDPEcho(srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { echo.Close() })
	var c *net.UDPConn
	if err := l.LAN.Do(func() (err error) { c, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(srv)); return err }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	exchange := func(n int) {
		buf := make([]byte, 64)
		for i := 0; i < n; i++ {
			_, _ = c.Write([]byte("ike"))
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := c.Read(buf); err != nil {
				t.Fatalf("echo: %v", err)
			}
		}
	}
	exchange(1)
	var flows []conntrack.Flow
	if err := l.Router.Do(func() (err error) { flows, err = conntrack.DumpFootprint(0); return err }); err != nil || len(flows) != 1 {
		t.Fatalf("dump: %v %v, want the one UDP 500 flow", flows, err)
	}
	exchange(4)
	var got []conntrack.Flow
	if err := l.Router.Do(func() (err error) { got, err = conntrack.Refresh(flows); return err }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != flows[0].ID || got[0].CounterOrig.Packets != 5 || got[0].CounterReply.Packets != 5 {
		t.Fatalf("refreshed %+v, want the same entry with 5 packets each way (was %+v)", got, flows[0])
	}
	// flushed over netlink: the VMs have no conntrack tool
	if err := l.Router.Do(func() error {
		c, err := ct.Dial(nil)
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Flush()
	}); err != nil {
		t.Fatalf("flush conntrack: %v", err)
	}
	if err := l.Router.Do(func() (err error) { got, err = conntrack.Refresh(flows); return err }); err != nil || len(got) != 0 {
		t.Fatalf("after a flush: %v %v, want nothing and no error", got, err)
	}
}
