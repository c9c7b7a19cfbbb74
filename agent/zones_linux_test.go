package agent

import (
	"github.com/vpnpass/vpnpass/vpn"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/vpnpass/vpnpass/agent/config"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/fw"
	"github.com/vpnpass/vpnpass/test/lab"
)

// labPaths writes an OpenWrt firewall and network config for the lab's
// router: zone lan (br-lan), zone guest (br-guest) forwarding to wan, and
// the wan zone with wanNetworks.
func labPaths(t *testing.T, l *lab.Lab, wanNetworks string) Paths {
	t.Helper()
	dir := t.TempDir()
	fwc := "config zone\n\toption name 'lan'\n\tlist network 'lan'\n\n" +
		"config zone\n\toption name 'guest'\n\tlist network 'guest'\n\n" +
		"config zone\n\toption name 'wan'\n\toption network '" + wanNetworks + "'\n\toption masq '1'\n\n" +
		"config forwarding\n\toption src 'lan'\n\toption dest 'wan'\n\n" +
		"config forwarding\n\toption src 'guest'\n\toption dest 'wan'\n"
	netc := "config interface 'lan'\n\toption device 'br-lan'\n\toption proto 'static'\n\toption ipaddr '192.168.1.1'\n\n" +
		"config interface 'guest'\n\toption device 'br-guest'\n\toption proto 'static'\n\toption ipaddr '192.168.3.1'\n\n" +
		"config interface 'wan'\n\toption device '" + l.WANDevice + "'\n\toption proto 'dhcp'\n\n" +
		"config interface 'wan6'\n\toption device '" + l.WANDevice + "'\n\toption proto 'dhcpv6'\n"
	p := Paths{Firewall: filepath.Join(dir, "firewall"), Network: filepath.Join(dir, "network"), Root: dir}
	for path, text := range map[string]string{p.Firewall: fwc, p.Network: netc} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// openAndAllow resolves the router from p inside the lab's router and
// allows IPsec there; the rules are removed when the test ends.
func openAndAllow(t *testing.T, l *lab.Lab, p Paths) Router {
	t.Helper()
	var r Router
	var m *fw.Manager
	err := l.Router.Do(func() error {
		var err error
		if r, err = ResolveRouter(config.Config{}, p); err != nil {
			return err
		}
		if m, _, err = fw.Open(FirewallOptions(config.Config{}, r, p, nil)); err != nil {
			return err
		}
		_, err = m.Apply(netfilter.Desired{vpn.IPsec: netfilter.ModeAllow})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Router.Do(m.Cleanup) })
	return r
}

// TestGuestLANIPsecPasses: a guest network forwarding to wan is LAN side,
// so allowing IPsec lets a guest host's IKE through a firewall that drops it.
func TestGuestLANIPsecPasses(t *testing.T) {
	l := lab.New(t, lab.Config{Firewalls: []lab.Firewall{lab.FW4Locked}, Guest: true})
	if _, err := l.Inet.ServeUDPEcho(netip.AddrPortFrom(lab.Server, 500)); err != nil {
		t.Fatal(err)
	}
	ike := netip.AddrPortFrom(lab.Server, 500)
	if _, _, err := lab.UDPExchange(l.LAN2, ike, []byte("ike"), 500*time.Millisecond); err == nil {
		t.Fatal("guest IKE passed before any allow: the lab's firewall does not drop it")
	}
	r := openAndAllow(t, l, labPaths(t, l, "wan wan6"))
	if want := []string{lab.GuestDevice, lab.LANDevice}; !reflect.DeepEqual(r.LANDevices, want) {
		t.Errorf("LAN devices %v, want %v", r.LANDevices, want)
	}
	for _, host := range []*lab.Node{l.LAN, l.LAN2} {
		_, seen, err := lab.UDPExchange(host, ike, []byte("ike"), 2*time.Second)
		if err != nil || seen.Addr() != l.PublicAddr {
			t.Errorf("IKE from %s with allow: seen %v, %v; want from %v", host, seen, err, l.PublicAddr)
		}
	}
}

// TestWAN6OnlyBindsEveryRule: with only wan6 in the wan zone and no IPv4
// default route, no rule of ours matches every egress: IPv4 gets no rule,
// IPv6 rules name the wan6 device.
func TestWAN6OnlyBindsEveryRule(t *testing.T) {
	l := lab.New(t, lab.Config{Firewalls: []lab.Firewall{lab.FW4Locked}, Guest: true})
	err := l.Router.Do(func() error {
		_, def, _ := net.ParseCIDR("0.0.0.0/0")
		return netlink.RouteDel(&netlink.Route{Dst: def, Gw: net.IP(l.Gateway.AsSlice())})
	})
	if err != nil {
		t.Fatal(err)
	}
	r := openAndAllow(t, l, labPaths(t, l, "wan6"))
	if want := (netfilter.WAN{IPv6: []string{l.WANDevice}}); !r.WAN.Equal(want) {
		t.Fatalf("WAN %+v, want %+v", r.WAN, want)
	}
	out, err := l.Nft("-s", "list", "ruleset")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.Contains(line, `comment "vpnpass:ipsec"`) || !strings.Contains(line, "accept") {
			continue
		}
		n++
		wan := `oifname "` + l.WANDevice + `"`
		if strings.Contains(line, "ct direction reply") || strings.Contains(line, "ct state established") {
			wan = `iifname "` + l.WANDevice + `"`
		}
		if !strings.Contains(line, wan) || !strings.Contains(line, "nfproto ipv6") && !strings.Contains(line, "ip6 ") {
			t.Errorf("rule not bound to the IPv6 WAN %s: %s", l.WANDevice, strings.TrimSpace(line))
		}
	}
	if n == 0 {
		t.Fatalf("no IPsec allow rule at all:\n%s", out)
	}
}
