package fw

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/test/peers/pptppeer"
	"github.com/vpnpass/vpnpass/vpn"
)

// inspectInbound runs InspectInbound in the lab router for the LAN host as
// the server of every protocol, over IPv4 and IPv6.
func inspectInbound(t *testing.T, l *lab.Lab) map[vpn.Protocol][]netfilter.InboundStatus {
	t.Helper()
	var got map[vpn.Protocol][]netfilter.InboundStatus
	o := InboundOptions{LANDevices: []string{lab.LANDevice}, WANDevice: l.WANDevice, WANAddr: l.RouterWAN.Addr(),
		Servers: []InboundServer{{Addr: lab.LANHost, Protocols: vpn.Toggled}, {Addr: lab.LANHost6, Protocols: vpn.Toggled}}}
	err := l.Router.Do(func() error {
		var err error
		got, err = InspectInbound(o)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// entryText is "server forwarded_to verdict blocked".
func entryText(e netfilter.InboundStatus) string {
	to := "-"
	if e.ForwardedTo != nil {
		to = e.ForwardedTo.String()
	}
	return e.Server.String() + " " + to + " " + string(e.Verdict) + " [" + strings.Join(e.Blocked, " ") + "]"
}

// loadInboundFW4 loads the ruleset the real fw4 renders from
// nfteval/testdata/fw4-inbound.uci, with its port forwards or without.
func loadInboundFW4(t testing.TB, l *lab.Lab, forward bool) {
	t.Helper()
	b, err := os.ReadFile("../nfteval/testdata/fw4-inbound.nft")
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, line := range strings.Split(string(b), "\n") {
		if forward || !strings.Contains(line, "dnat 192.168.1.10") {
			keep = append(keep, line)
		}
	}
	text := strings.ReplaceAll(strings.Join(keep, "\n"), "/etc/nftables.d/*.nft", filepath.Join(t.TempDir(), "*.nft"))
	f := filepath.Join(t.TempDir(), "fw4.nft")
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := l.Router.Run("nft", "-f", f); err != nil {
		t.Fatalf("load fw4: %v\n%s", err, out)
	}
}

// TestInspectInboundFW4 judges every protocol on fw4's rendering (IPsec
// and PPTP forwarded to the LAN host, an IPv6 rule for UDP 500/4500 to
// it), with and without the forwards, and checks each TCP/UDP element
// against the kernel: a client in inet sends to the router's WAN address
// (IPv4) or the server (IPv6), and the LAN host's echo answers or not.
// (The UCI config carries OpenWrt's default ICMPv6 rules: without them the
// router rejects neighbour discovery from the WAN and no IPv6 arrives.)
func TestInspectInboundFW4(t *testing.T) {
	lab.RequireTools(t, lab.FW4) // the rulesets are loaded with nft -f
	for _, c := range []struct {
		name    string
		forward bool
		// helper: the base chain that assigns the pptp helper to TCP 1723
		// from the WAN ("prerouting": as `list helper 'pptp'` on the wan
		// zone renders it; "raw_prerouting": before conntrack, no effect).
		helper string
		want   map[vpn.Protocol][]string
	}{
		{"forward", true, "", map[vpn.Protocol][]string{
			vpn.IPsec: {"192.168.1.10 192.168.1.10 accept []", "2001:db8:1::10 - reject [esp]"},
			vpn.L2TP:  {"192.168.1.10 192.168.1.10 accept []", "2001:db8:1::10 - accept []"},
			// No pptp helper follows a control connection from the WAN
			// (fw4 assigns it in helper_lan), so the GRE is not forwarded.
			vpn.PPTP: {"192.168.1.10 192.168.1.10 reject [gre]", "2001:db8:1::10 - reject [tcp/1723 gre]"},
		}},
		{"no-forward", false, "", map[vpn.Protocol][]string{
			vpn.IPsec: {"192.168.1.10 - reject [udp/500 udp/4500]", "2001:db8:1::10 - reject [esp]"},
			vpn.L2TP:  {"192.168.1.10 - reject [udp/500 udp/4500]", "2001:db8:1::10 - accept []"},
			// A SYN to the router meets fw4's syn_flood `limit`, which
			// inspection leaves undecided (it depends on the rate).
			vpn.PPTP: {"192.168.1.10 - reject [tcp/1723 gre]", "2001:db8:1::10 - reject [tcp/1723 gre]"},
		}},
		{"forward-with-helper", true, "prerouting", map[vpn.Protocol][]string{
			vpn.IPsec: {"192.168.1.10 192.168.1.10 accept []", "2001:db8:1::10 - reject [esp]"},
			vpn.L2TP:  {"192.168.1.10 192.168.1.10 accept []", "2001:db8:1::10 - accept []"},
			// The helper follows the forwarded control connection: its
			// GRE is related and NATed to the server.
			vpn.PPTP: {"192.168.1.10 192.168.1.10 accept []", "2001:db8:1::10 - reject [tcp/1723 gre]"},
		}},
		{"helper-before-conntrack", true, "raw_prerouting", map[vpn.Protocol][]string{
			vpn.IPsec: {"192.168.1.10 192.168.1.10 accept []", "2001:db8:1::10 - reject [esp]"},
			vpn.L2TP:  {"192.168.1.10 192.168.1.10 accept []", "2001:db8:1::10 - accept []"},
			vpn.PPTP:  {"192.168.1.10 192.168.1.10 reject [gre]", "2001:db8:1::10 - reject [tcp/1723 gre]"},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := lab.New(t, lab.Config{IPv6: true})
			loadInboundFW4(t, l, c.forward)
			if c.helper != "" {
				// fw4 renders the helper only where it finds the module
				// (not here, where it is built in): the rules it would add.
				script := `add ct helper inet fw4 pptp { type "pptp" protocol tcp; }; add chain inet fw4 helper_wan; ` +
					`add rule inet fw4 helper_wan meta l4proto tcp tcp dport 1723 ct helper set "pptp"; ` +
					`add rule inet fw4 ` + c.helper + ` iifname "eth1" jump helper_wan`
				if out, err := l.Router.Run("nft", script); err != nil {
					t.Fatalf("add the wan helper: %v\n%s", err, out)
				}
			}
			got := inspectInbound(t, l)
			for p, ws := range c.want {
				if len(got[p]) != len(ws) {
					t.Fatalf("%s: %d entries, want %d", p, len(got[p]), len(ws))
				}
				for i, w := range ws {
					if g := entryText(got[p][i]); g != w || got[p][i].DecidedBy == nil {
						t.Errorf("%s[%d] = %s by %+v, want %s", p, i, g, got[p][i].DecidedBy, w)
					}
					kernelAgrees(t, l, p, got[p][i])
					if p == vpn.PPTP && got[p][i].Family == vpn.IPv4 {
						pptpAgrees(t, l, got[p][i])
					}
				}
			}
		})
	}
}

// kernelAgrees sends each TCP/UDP element of e from inet and checks that
// the LAN host's echo answers exactly when status says it is not blocked.
func kernelAgrees(t *testing.T, l *lab.Lab, p vpn.Protocol, e netfilter.InboundStatus) {
	t.Helper()
	for _, el := range vpn.InboundElements(p, e.Family) {
		if el.Port == 0 {
			continue // ESP, GRE: no socket to answer
		}
		srv := netip.AddrPortFrom(e.Server, el.Port)
		dst := netip.AddrPortFrom(l.RouterWAN.Addr(), el.Port)
		if e.Family == vpn.IPv6 {
			dst = srv
		}
		var closer interface{ Close() error }
		var err error
		if el.L4 == vpn.ProtoTCP {
			closer, err = l.LAN.ServeTCPEcho(srv)
		} else {
			closer, err = l.LAN.ServeUDPEcho(srv)
		}
		if err != nil {
			t.Fatal(err)
		}
		if el.L4 == vpn.ProtoTCP {
			_, _, err = lab.TCPExchange(l.Inet, dst, []byte("x"), 500*time.Millisecond)
		} else {
			_, _, err = lab.UDPExchange(l.Inet, dst, []byte("x"), 500*time.Millisecond)
		}
		closer.Close()
		passed := err == nil
		if want := !slices.Contains(e.Blocked, el.Match()); passed != want {
			t.Errorf("%s %s to %s: the kernel passed it = %v (%v), status says %v", p, el.Match(), dst, passed, err, want)
		}
	}
}

// BenchmarkInspectInbound: what status.inbound adds to a status call on
// fw4's rendering with one server (IPv4 and IPv6, every protocol).
func BenchmarkInspectInbound(b *testing.B) {
	l := lab.New(b, lab.Config{IPv6: true})
	loadInboundFW4(b, l, true)
	o := InboundOptions{LANDevices: []string{lab.LANDevice}, WANDevice: l.WANDevice, WANAddr: l.RouterWAN.Addr(),
		Servers: []InboundServer{{Addr: lab.LANHost, Protocols: vpn.Toggled}, {Addr: lab.LANHost6, Protocols: vpn.Toggled}}}
	b.ResetTimer()
	err := l.Router.Do(func() error {
		for i := 0; i < b.N; i++ {
			if _, err := InspectInbound(o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// pptpAgrees runs a real PPTP call from inet to the router's WAN address,
// served by the LAN host, and checks its control connection and GRE
// against status: each gets through exactly when it is not blocked.
func pptpAgrees(t *testing.T, l *lab.Lab, e netfilter.InboundStatus) {
	t.Helper()
	var srv *pptppeer.Server
	if err := l.LAN.Do(func() (err error) { srv, err = pptppeer.Listen(e.Server); return err }); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var cli *pptppeer.Client
	err := l.Inet.Do(func() (err error) {
		cli, err = pptppeer.Dial(lab.InetGateway, l.RouterWAN.Addr(), 0x4321, time.Second)
		return err
	})
	control := err == nil && cli.Handshake(2*time.Second) == nil
	gre := 0
	if control {
		defer cli.Close()
		gre, _ = cli.ExchangeGRE(2, time.Second)
	}
	if control == slices.Contains(e.Blocked, "tcp/1723") || (gre > 0) == slices.Contains(e.Blocked, "gre") {
		t.Errorf("PPTP through the kernel: control %v, GRE answered %d; status blocks %v", control, gre, e.Blocked)
	}
}
