package e2e

import (
	"github.com/vpnpass/vpnpass/vpn"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/test/peers/esppeer"
	"github.com/vpnpass/vpnpass/test/peers/pptppeer"
)

// liveFlows are one running VPN flow of each kind from the LAN host: NAT-T
// (UDP 4500), raw ESP, and a PPTP call (control on TCP 1723 plus GRE).
type liveFlows struct {
	natt *net.UDPConn
	esp  *net.IPConn
	pptp *pptppeer.Client
	seq  uint32
}

func startLiveFlows(t *testing.T, l *lab.Lab) *liveFlows {
	t.Helper()
	serveUDP(t, l, 4500)
	esppeer.Serve(t, l.Inet, lab.Server)
	var srv *pptppeer.Server
	if err := l.Inet.Do(func() (err error) { srv, err = pptppeer.Listen(lab.Server); return }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	f := &liveFlows{esp: esppeer.Open(t, l.LAN, lab.LANHost)}
	if err := l.LAN.Do(func() (err error) {
		if f.natt, err = net.ListenUDP("udp4", &net.UDPAddr{IP: lab.LANHost.AsSlice()}); err != nil {
			return err
		}
		f.pptp, err = pptppeer.Dial(lab.LANHost, lab.Server, 0x4242, time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.natt.Close(); f.pptp.Close() })
	if err := f.pptp.Handshake(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	f.exchange(t, "start")
	return f
}

// exchange sends one packet on every flow and wants every answer: the
// flows are alive and pass the router.
func (f *liveFlows) exchange(t *testing.T, when string) {
	t.Helper()
	f.seq++
	buf := make([]byte, 2048)
	if _, err := f.natt.WriteToUDPAddrPort([]byte("esp-in-udp"), netip.AddrPortFrom(lab.Server, 4500)); err != nil {
		t.Fatal(err)
	}
	_ = f.natt.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, _, err := f.natt.ReadFromUDPAddrPort(buf); err != nil {
		t.Errorf("%s: NAT-T flow got no answer: %v", when, err)
	}
	if _, err := f.esp.WriteToIP(esppeer.Packet(0x1001, f.seq), &net.IPAddr{IP: lab.Server.AsSlice()}); err != nil {
		t.Fatal(err)
	}
	_ = f.esp.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := f.esp.Read(buf); err != nil {
		t.Errorf("%s: ESP flow got no answer: %v", when, err)
	}
	if got, err := f.pptp.ExchangeGRE(1, 2*time.Second); err != nil || got != 1 {
		t.Errorf("%s: PPTP call's GRE got %d of 1 answers (%v)", when, got, err)
	}
}

// flowIDs returns the conntrack IDs of the LAN host's VPN flows, by kind.
func flowIDs(t *testing.T, l *lab.Lab) map[string]uint32 {
	t.Helper()
	flows, err := conntrack.DumpFootprint(l.Router.Fd())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint32{}
	for _, fl := range flows {
		if fl.Orig.Src != lab.LANHost {
			continue
		}
		switch {
		case fl.L4 == vpn.ProtoUDP && fl.Orig.DstPort == 4500:
			out["natt"] = fl.ID
		case fl.L4 == vpn.ProtoESP:
			out["esp"] = fl.ID
		case fl.L4 == vpn.ProtoTCP && fl.Orig.DstPort == 1723:
			out["pptp-control"] = fl.ID
		case fl.L4 == vpn.ProtoGRE:
			out["gre"] = fl.ID
		}
	}
	return out
}

// foreignReload is what a firewall's own reload does to the router: our
// rules in its chains vanish and the agent repairs them.
type foreignReload struct {
	fw     lab.Firewall
	reload func(t *testing.T, l *lab.Lab)
}

var foreignReloads = []foreignReload{
	// fw4 reload without the include: flush and re-render table inet fw4.
	{lab.FW4Locked, func(t *testing.T, l *lab.Lab) {
		if err := l.ReloadFW4(); err != nil {
			t.Fatal(err)
		}
	}},
	// a plain nftables ruleset reloaded by its owner (`nft -f` with a flush).
	{lab.NftablesDrop, func(t *testing.T, l *lab.Lab) {
		text, err := l.Nft("list", "table", "inet", lab.NftablesDropTable)
		if err != nil {
			t.Fatal(err)
		}
		var own []string // the table as its owner wrote it: without our rules
		for _, line := range strings.Split(string(text), "\n") {
			if !strings.Contains(line, "vpnpass") {
				own = append(own, line)
			}
		}
		file := filepath.Join(t.TempDir(), "ruleset.nft")
		body := "flush table inet " + lab.NftablesDropTable + "\n" + strings.Join(own, "\n")
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Nft("-f", file); err != nil {
			t.Fatal(err)
		}
	}},
	// an iptables script re-run (fw3 reload): flush FORWARD, add its rules.
	{lab.IptablesLegacyDrop, func(t *testing.T, l *lab.Lab) {
		for _, c := range [][]string{{"-F", "FORWARD"},
			{"-A", "FORWARD", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
			{"-A", "FORWARD", "-p", "icmp", "-j", "ACCEPT"}} {
			if _, err := l.Iptables("legacy", c...); err != nil {
				t.Fatal(err)
			}
		}
	}},
}

// TestRepairsKeepLiveVPNFlows: drift repairs after firewall reloads (fw4
// without include, plain nftables, iptables) and after a foreign `nft flush
// ruleset` must not delete conntrack entries: a running NAT-T, ESP and PPTP
// session keeps its entries (same IDs) and keeps passing. A mode change
// still clears the entries of that protocol, and only those.
func TestRepairsKeepLiveVPNFlows(t *testing.T) {
	for _, fr := range foreignReloads {
		t.Run(string(fr.fw), func(t *testing.T) { liveFlowsThroughRepairs(t, fr) })
	}
}

func liveFlowsThroughRepairs(t *testing.T, fr foreignReload) {
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{fr.fw}})
	a := startAgent(t, l, "allow", "default", "allow")
	f := startLiveFlows(t, l)
	ids := flowIDs(t, l)
	if len(ids) != 4 {
		t.Fatalf("conntrack entries of the live flows: %v, want natt, esp, pptp-control and gre", ids)
	}
	const n = 5
	var cut []int // entries of the live flows replaced per repair
	prev := ids
	for i := 1; i <= n; i++ {
		fr.reload(t, l)
		a.waitEvents(t, "firewall.drift_repaired", i)
		f.exchange(t, "after a repair")
		now := flowIDs(t, l)
		cut = append(cut, replaced(prev, now))
		prev = now
	}
	t.Logf("%s: live-flow conntrack entries destroyed per repair: %v", fr.fw, cut)
	// A flush removes an nftables masquerade too (the kernel stops
	// translating without a nat chain): the flows may not pass, but their
	// entries must stay for when the firewall starts again.
	tables := ourTables(t, l)
	if _, err := l.Nft("flush", "ruleset"); err != nil {
		t.Fatal(err)
	}
	waitTables(t, l, tables, time.Second)
	after := flowIDs(t, l)
	for k, id := range ids {
		if after[k] != id {
			t.Errorf("%s flow: conntrack entry %d replaced by %d after %d repairs and a flush: the session was cut", k, id, after[k], n)
		}
	}
	if out, err := a.cli("disable", "pptp"); err != nil {
		t.Fatalf("disable pptp: %v\n%s", err, out)
	}
	changed := flowIDs(t, l)
	if changed["pptp-control"] == ids["pptp-control"] || changed["gre"] == ids["gre"] {
		t.Errorf("pptp mode changed but its entries stay: before %v, after %v", ids, changed)
	}
	if changed["natt"] != ids["natt"] || changed["esp"] != ids["esp"] {
		t.Errorf("pptp mode change cut IPsec flows: before %v, after %v", ids, changed)
	}
}

// replaced counts the kinds whose entry is gone or has another ID.
func replaced(before, after map[string]uint32) int {
	n := 0
	for k, id := range before {
		if after[k] != id {
			n++
		}
	}
	return n
}
