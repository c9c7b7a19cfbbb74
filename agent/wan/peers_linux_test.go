package wan

import (
	"context"
	"github.com/vpnpass/vpnpass/vpn"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// Tests against real peers from Debian, run inside the lab's namespaces
// only: coturn (STUN) in inet, miniupnpd (NAT-PMP, UPnP IGD) in isp.

// startCoturn runs Debian's coturn as a STUN-only server on lab.Server.
func startCoturn(t *testing.T, l *lab.Lab) string {
	t.Helper()
	bin := requireBinary(t, "turnserver", "coturn")
	dir := t.TempDir()
	// -n: ignore /etc/turnserver.conf; everything that would touch the
	// host's files (log, pid, user db) points into the test's temp dir.
	_, err := l.Inet.Start(bin, "-n", "--stun-only", "--no-cli", "--no-tls", "--no-dtls",
		"--listening-ip", lab.Server.String(), "--listening-port", "3478",
		"--log-file", "stdout", "--simple-log", "--pidfile", filepath.Join(dir, "turnserver.pid"),
		"--userdb", filepath.Join(dir, "turndb"))
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.AddrPortFrom(lab.Server, 3478)
	waitUDP(t, l.Inet, addr)
	return addr.String()
}

// waitUDP waits until something listens on addr inside node.
func waitUDP(t *testing.T, node *lab.Node, addr netip.AddrPort) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		err := node.Do(func() error {
			c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(addr))
			if err == nil {
				c.Close()
			}
			return err
		})
		if err != nil { // address in use: the server is up
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %v in %s", addr, node)
}

func TestLabSTUNWithCoturn(t *testing.T) {
	tests := []struct {
		topo      lab.Topology
		code      vpn.NATCode
		confirmed []string
	}{
		{lab.Single, vpn.NATOK, []string{"address", "stun"}},
		{lab.Double, vpn.NATDouble, []string{"address", "stun"}},
		{lab.CGNAT, vpn.NATCGNAT, []string{"address", "stun"}},
	}
	for _, tc := range tests {
		t.Run(tc.topo.String(), func(t *testing.T) {
			l := lab.New(t, lab.Config{Topology: tc.topo})
			server := startCoturn(t, l)
			cfg := labConfig
			cfg.Probe = ProbeConfig{STUNServer: server, Exec: l.Router.Do}
			n, err := Evaluate(context.Background(), routerSource(t, l), cfg, false)
			if err != nil {
				t.Fatal(err)
			}
			s := n.Probes.STUN
			if s == nil || s.Err != nil {
				t.Fatalf("STUN probe: %+v", s)
			}
			t.Logf("%s: local %v mapped %v: %s", tc.topo, s.Local, s.Mapped, n.Message)
			if s.Mapped.Addr() != l.PublicAddr || n.PublicAddress != l.PublicAddr.String() {
				t.Errorf("mapped %v, public_address %q; want %v (the outer address)", s.Mapped, n.PublicAddress, l.PublicAddr)
			}
			if n.Code != tc.code || !slices.Equal(n.ConfirmedBy, tc.confirmed) {
				t.Errorf("verdict %s confirmed by %v, want %s by %v", n.Code, n.ConfirmedBy, tc.code, tc.confirmed)
			}
		})
	}
}

// STUN servers that refuse (ICMP port unreachable) or stay silent (a socket
// that reads and never answers): an error in the probe results and the
// message, never a crash or a hang.
func TestLabSTUNRefusedAndSilent(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Double})
	silent := netip.AddrPortFrom(lab.Server2, 3478)
	err := l.Inet.Do(func() error {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(silent))
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for server, want := range map[string]string{
		netip.AddrPortFrom(lab.Server, 3478).String(): "connection refused",
		silent.String(): "no answer in time",
	} {
		cfg := labConfig
		cfg.Probe = ProbeConfig{STUNServer: server, Timeout: time.Second, Exec: l.Router.Do}
		n, err := Evaluate(context.Background(), routerSource(t, l), cfg, false)
		if err != nil {
			t.Fatal(err)
		}
		if n.Probes.STUN == nil || n.Probes.STUN.Err == nil || !strings.Contains(n.Probes.STUN.Err.Error(), want) {
			t.Errorf("%s: STUN result %+v, want an error with %q", server, n.Probes.STUN, want)
			continue
		}
		if n.Code != vpn.NATDouble || !slices.Equal(n.ConfirmedBy, []string{"address"}) || !strings.Contains(n.Message, "STUN:") {
			t.Errorf("%s: verdict %s confirmed by %v, message %q", server, n.Code, n.ConfirmedBy, n.Message)
		}
	}
}

const miniupnpdConf = `# vpnpass lab: the isp namespace as a home router with UPnP and NAT-PMP.
ext_ifname=eth1
# The lab's outer address is a documentation range, which miniupnpd treats
# as reserved: it answers 0.0.0.0 for it and refuses it as ext_ip= too.
# Its STUN mode learns the external address from coturn in inet instead,
# as a box behind a 1:1 NAT would.
ext_perform_stun=yes
ext_stun_host=STUNHOST
ext_stun_port=3478
listening_ip=eth0
http_port=5000
enable_natpmp=yes
enable_upnp=yes
secure_mode=yes
system_uptime=yes
friendly_name=vpnpass lab ISP router
manufacturer_name=vpnpass lab
model_name=LabBox 9000
model_number=1
uuid=3b7d3b4c-6a2a-4f0e-9a55-6c1f2a9e0b11
lease_file=LEASES
allow 1024-65535 192.168.0.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
`

func startMiniupnpd(t *testing.T, l *lab.Lab) {
	t.Helper()
	bin := requireBinary(t, "miniupnpd", "miniupnpd")
	stunServer := startCoturn(t, l)
	dir := t.TempDir()
	conf := filepath.Join(dir, "miniupnpd.conf")
	text := strings.Replace(miniupnpdConf, "LEASES", filepath.Join(dir, "upnp.leases"), 1)
	text = strings.Replace(text, "STUNHOST", netip.MustParseAddrPort(stunServer).Addr().String(), 1)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// -d: foreground with debug log; -P: pid file away from /var/run.
	if _, err := l.ISP.Start(bin, "-f", conf, "-d", "-P", filepath.Join(dir, "miniupnpd.pid")); err != nil {
		t.Fatal(err)
	}
	waitUDP(t, l.ISP, netip.AddrPortFrom(lab.DoubleISPInner, 5351))
}

func TestLabMiniupnpd(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Double})
	startMiniupnpd(t, l)
	cfg := labConfig
	cfg.Probe = ProbeConfig{NATPMP: true, IGD: true, Exec: l.Router.Do}
	n, err := Evaluate(context.Background(), routerSource(t, l), cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	p := n.Probes
	t.Logf("NAT-PMP %+v; IGD %+v; %s | %s", p.NATPMP, p.IGD, n.Message, n.Advice)
	if p.NATPMP == nil || p.NATPMP.Err != nil || p.NATPMP.External != l.PublicAddr {
		t.Errorf("NAT-PMP: %+v, want external %v", p.NATPMP, l.PublicAddr)
	}
	if p.IGD == nil || p.IGD.Err != nil || p.IGD.External != l.PublicAddr || p.IGD.Model != "LabBox 9000" {
		t.Errorf("IGD: %+v, want external %v and model LabBox 9000", p.IGD, l.PublicAddr)
	}
	want := Upstream{Address: lab.DoubleISPInner.String(), Model: "LabBox 9000"}
	if n.Code != vpn.NATDouble || n.Upstream != want || !slices.Equal(n.ConfirmedBy, []string{"address", "nat-pmp", "igd"}) {
		t.Errorf("verdict %s upstream %+v confirmed by %v", n.Code, n.Upstream, n.ConfirmedBy)
	}
	if !strings.Contains(n.Advice, "LabBox 9000 at 192.168.0.1") {
		t.Errorf("advice does not name the box: %s", n.Advice)
	}
}
