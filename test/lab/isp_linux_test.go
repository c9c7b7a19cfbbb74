package lab

import (
	"net/netip"
	"testing"

	"github.com/ti-mo/conntrack"
)

// TestISPPPTPHelper: with ISPPPTPHelper the isp's conntrack entry for a
// LAN host's TCP 1723 flow carries the pptp helper; without, none does.
func TestISPPPTPHelper(t *testing.T) {
	Require(t)
	for _, tt := range []struct {
		topo   Topology
		helper bool
	}{{Double, true}, {Double, false}, {CGNAT, true}} {
		t.Run(tt.topo.String()+map[bool]string{true: "+helper", false: ""}[tt.helper], func(t *testing.T) {
			l := New(t, Config{Topology: tt.topo, ISPPPTPHelper: tt.helper})
			dst := netip.AddrPortFrom(Server, 1723)
			mustServeTCP(t, l.Inet, dst)
			if _, seen, err := TCPExchange(l.LAN, dst, []byte("control"), exchangeTimeout); err != nil || seen.Addr() != l.PublicAddr {
				t.Fatalf("TCP 1723: seen %s, %v; want from %s", seen, err, l.PublicAddr)
			}
			helpers := flowHelpers(t, l.ISP, dst)
			if len(helpers) == 0 {
				t.Fatal("no conntrack entry for TCP 1723 in the isp")
			}
			want := ""
			if tt.helper {
				want = "pptp"
			}
			for _, h := range helpers {
				if h != want {
					t.Errorf("isp flow to %s has helper %q, want %q", dst, h, want)
				}
			}
		})
	}
}

// flowHelpers dumps the node's conntrack table over netlink and returns
// the helper name of each flow to dst.
func flowHelpers(t *testing.T, n *Node, dst netip.AddrPort) []string {
	t.Helper()
	var flows []conntrack.Flow
	err := n.Do(func() error {
		c, err := conntrack.Dial(nil)
		if err != nil {
			return err
		}
		defer c.Close()
		flows, err = c.Dump(nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range flows {
		o := f.TupleOrig
		if o.IP.DestinationAddress == dst.Addr() && o.Proto.DestinationPort == dst.Port() {
			out = append(out, f.Helper.Name)
		}
	}
	return out
}
