package lab

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

const exchangeTimeout = 2 * time.Second

// TestTopologiesNAT: a LAN host reaches both servers through each topology,
// and the server sees the NATed source the topology implies.
func TestTopologiesNAT(t *testing.T) {
	Require(t)
	tests := []struct {
		topo       Topology
		wantPublic netip.Addr
		wantISP    bool
	}{
		{Single, UpstreamWAN.Addr(), false},
		{Double, UpstreamWAN.Addr(), true},
		{CGNAT, UpstreamWAN.Addr(), true},
	}
	for _, tt := range tests {
		t.Run(tt.topo.String(), func(t *testing.T) {
			l := New(t, Config{Topology: tt.topo, IPv6: true})
			if (l.ISP != nil) != tt.wantISP {
				t.Fatalf("ISP node present = %v, want %v", l.ISP != nil, tt.wantISP)
			}
			if l.PublicAddr != tt.wantPublic {
				t.Errorf("PublicAddr = %s, want %s", l.PublicAddr, tt.wantPublic)
			}
			for _, srv := range []netip.Addr{Server, Server2, Server6} {
				mustServeUDP(t, l.Inet, netip.AddrPortFrom(srv, 7))
			}
			mustServeTCP(t, l.Inet, netip.AddrPortFrom(Server, 7))
			for _, from := range []*Node{l.LAN, l.LAN2} {
				for _, srv := range []netip.Addr{Server, Server2} {
					assertSeen(t, from, netip.AddrPortFrom(srv, 7), tt.wantPublic)
				}
			}
			reply, seen, err := TCPExchange(l.LAN, netip.AddrPortFrom(Server, 7), []byte("tcp"), exchangeTimeout)
			if err != nil || string(reply) != "tcp" || seen.Addr() != tt.wantPublic {
				t.Errorf("TCP: reply %q seen %s err %v, want %q from %s", reply, seen, err, "tcp", tt.wantPublic)
			}
			// IPv6 is routed, never NATed: the server sees the LAN host.
			assertSeen(t, l.LAN, netip.AddrPortFrom(Server6, 7), LANHost6)
		})
	}
}

// TestInetDoesNotRouteToPrivate: without NAT nothing comes back, which is
// what makes the router's (and the isp's) masquerade necessary.
func TestInetDoesNotRouteToPrivate(t *testing.T) {
	l := New(t, Config{Topology: Double})
	routes, err := l.Inet.Netlink().RouteList(nil, syscall.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if r.Dst == nil {
			t.Errorf("inet has a default route: %v", r)
			continue
		}
		p, _ := netip.AddrFromSlice(r.Dst.IP)
		for _, private := range []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("100.64.0.0/10")} {
			if private.Contains(p.Unmap()) {
				t.Errorf("inet routes to %v", r.Dst)
			}
		}
	}
}

func mustServeUDP(t *testing.T, n *Node, ap netip.AddrPort) {
	t.Helper()
	if _, err := n.ServeUDPEcho(ap); err != nil {
		t.Fatal(err)
	}
}

func mustServeTCP(t *testing.T, n *Node, ap netip.AddrPort) {
	t.Helper()
	if _, err := n.ServeTCPEcho(ap); err != nil {
		t.Fatal(err)
	}
}

func assertSeen(t *testing.T, from *Node, dst netip.AddrPort, want netip.Addr) {
	t.Helper()
	payload := []byte("hello from " + from.Role)
	reply, seen, err := UDPExchange(from, dst, payload, exchangeTimeout)
	if err != nil {
		t.Errorf("%s -> %s: %v", from.Role, dst, err)
		return
	}
	if string(reply) != string(payload) {
		t.Errorf("%s -> %s: reply %q, want %q", from.Role, dst, reply, payload)
	}
	if seen.Addr() != want {
		t.Errorf("%s -> %s: server saw %s, want %s", from.Role, dst, seen, want)
	}
}

// outcome of a LAN→WAN UDP exchange.
type outcome string

const (
	passes   outcome = "passes"   // echo comes back
	rejected outcome = "rejected" // ICMP port unreachable: connection refused
	dropped  outcome = "dropped"  // silence: timeout
)

func classify(err error) outcome {
	switch {
	case err == nil:
		return passes
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, ErrUnreachable):
		return rejected
	case errors.Is(err, os.ErrDeadlineExceeded):
		return dropped
	}
	return outcome("error: " + err.Error())
}

// TestFirewalls: every firewall option loads, leaves the tables it should,
// masquerades through the expected owner, and gives LAN→WAN UDP 500 (IPv4
// and IPv6) and ping the verdicts it models.
func TestFirewalls(t *testing.T) {
	Require(t)
	tests := []struct {
		fws        []Firewall
		udp, ping  outcome
		masq       string
		tables     []string // nft tables that must exist in the router
		iptRules   map[string][]string
		notInTable []string
	}{
		{nil, passes, passes, MasqLabNAT, []string{"ip lab_nat"}, nil, []string{"inet fw4"}},
		{[]Firewall{FW4}, passes, passes, MasqFW4, []string{"inet fw4"}, nil, []string{"ip lab_nat"}},
		{[]Firewall{FW4Locked}, rejected, rejected, MasqFW4, []string{"inet fw4"}, nil, []string{"ip lab_nat"}},
		{[]Firewall{NftablesDrop}, dropped, passes, MasqLabNAT, []string{"inet filter", "ip lab_nat"}, nil, nil},
		{[]Firewall{IptablesLegacyDrop}, dropped, passes, MasqIptablesLegacy, nil,
			map[string][]string{"legacy": {"-P FORWARD DROP", "-A FORWARD -p icmp -j ACCEPT"},
				"ip6tables-legacy": {"-P FORWARD DROP"}}, []string{"ip lab_nat", "ip filter"}},
		{[]Firewall{IptablesNftDrop}, dropped, passes, MasqIptablesNft, []string{"ip filter", "ip nat", "ip6 filter"},
			map[string][]string{"nft": {"-P FORWARD DROP"}}, []string{"ip lab_nat"}},
		{[]Firewall{FW3}, passes, passes, MasqFW3, nil,
			map[string][]string{"legacy": {"-N zone_wan_dest_ACCEPT", fw3LanToWAN[:len(fw3LanToWAN)-len(" -j zone_wan_dest_ACCEPT")]}}, []string{"ip lab_nat"}},
		{[]Firewall{FW3Locked}, rejected, rejected, MasqFW3, nil,
			map[string][]string{"legacy": {"-N zone_wan_dest_REJECT", "-P FORWARD DROP"}}, nil},
		// Several firewalls hook forward: the iptables-nft drop is final
		// whatever fw4 accepts.
		{[]Firewall{FW4, IptablesNftDrop}, dropped, passes, MasqFW4, []string{"inet fw4", "ip filter"}, nil, []string{"ip lab_nat"}},
	}
	for _, tt := range tests {
		t.Run(firewallsName(tt.fws), func(t *testing.T) {
			l := New(t, Config{Topology: Single, Firewalls: tt.fws, IPv6: true})
			if got := l.MasqueradeBy(); got != tt.masq {
				t.Errorf("MasqueradeBy = %s, want %s", got, tt.masq)
			}
			assertTables(t, l.Router, tt.tables, tt.notInTable)
			for variant, wants := range tt.iptRules {
				out, err := l.Iptables(variant, "-S")
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range wants {
					if !strings.Contains(string(out), w) {
						t.Errorf("%s -S lacks %q:\n%s", variant, w, out)
					}
				}
			}
			for _, srv := range []netip.Addr{Server, Server6} {
				dst := netip.AddrPortFrom(srv, 500)
				mustServeUDP(t, l.Inet, dst)
				_, _, err := UDPExchange(l.LAN, dst, []byte("ike"), exchangeTimeout)
				if got := classify(err); got != tt.udp {
					t.Errorf("LAN -> %s %s (%v), want %s", dst, got, err, tt.udp)
				}
				err = Ping(l.LAN, srv, exchangeTimeout)
				if got := classify(err); got != tt.ping {
					t.Errorf("LAN ping %s %s (%v), want %s", srv, got, err, tt.ping)
				}
			}
		})
	}
}

func assertTables(t *testing.T, n *Node, want, notWant []string) {
	t.Helper()
	tables, err := n.NftTables()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, tb := range tables {
		have[tb] = true
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("table %s missing in %s (have %v)", w, n.Role, tables)
		}
	}
	for _, w := range notWant {
		if have[w] {
			t.Errorf("unexpected table %s in %s", w, n.Role)
		}
	}
}

// TestFW4IncludeAndReload: a chain-pre include opens UDP 500 in a locked
// fw4; a rule inserted by hand vanishes on ReloadFW4 (what `fw4 reload`
// does) while the include's rule comes back with the render.
func TestFW4IncludeAndReload(t *testing.T) {
	dir := t.TempDir()
	rule := `iifname "br-lan" udp dport 500 accept comment "lab: include test"` + "\n"
	if err := os.WriteFile(dir+"/allow.nft", []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	l := New(t, Config{Topology: Double, Firewalls: []Firewall{FW4Locked}, FW4IncludeDir: dir})
	ike, natt := netip.AddrPortFrom(Server, 500), netip.AddrPortFrom(Server, 4500)
	mustServeUDP(t, l.Inet, ike)
	mustServeUDP(t, l.Inet, natt)
	expect := func(stage string, dst netip.AddrPort, want outcome) {
		t.Helper()
		_, seen, err := UDPExchange(l.LAN, dst, []byte("x"), exchangeTimeout)
		if got := classify(err); got != want {
			t.Errorf("%s: LAN -> %s %s (%v), want %s", stage, dst, got, err, want)
		}
		if err == nil && seen.Addr() != l.PublicAddr {
			t.Errorf("%s: server saw %s, want %s", stage, seen, l.PublicAddr)
		}
	}
	expect("include", ike, passes)
	expect("include", natt, rejected)
	if _, err := l.Nft("insert", "rule", "inet", "fw4", "forward", "udp", "dport", "4500", "accept"); err != nil {
		t.Fatal(err)
	}
	expect("hand rule", natt, passes)
	if err := l.ReloadFW4(); err != nil {
		t.Fatal(err)
	}
	expect("after reload", natt, rejected)
	expect("after reload", ike, passes)
}

// TestParallelLabs: labs built at the same time in one process do not
// collide (names, links, servers on the same addresses).
func TestParallelLabs(t *testing.T) {
	Require(t)
	for i, topo := range []Topology{Single, Double, CGNAT, Double} {
		t.Run(fmt.Sprintf("%d-%s", i, topo), func(t *testing.T) {
			t.Parallel()
			l := New(t, Config{Topology: topo, Firewalls: []Firewall{NftablesDrop}})
			mustServeTCP(t, l.Inet, netip.AddrPortFrom(Server2, 443))
			_, seen, err := TCPExchange(l.LAN2, netip.AddrPortFrom(Server2, 443), []byte("x"), exchangeTimeout)
			if err == nil {
				t.Errorf("TCP through nftables-drop passed (seen %s)", seen)
			}
			if err := Ping(l.LAN2, Server2, exchangeTimeout); err != nil {
				t.Errorf("ping through nftables-drop: %v", err)
			}
		})
	}
}
