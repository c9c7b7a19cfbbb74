package fw

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/test/lab"
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

// TestInspectInboundFW4 loads the ruleset the real fw4 renders from
// nfteval/testdata/fw4-inbound.uci (IPsec and PPTP forwarded to the LAN
// host, an IPv6 rule for UDP 500/4500 to it) and judges every protocol.
func TestInspectInboundFW4(t *testing.T) {
	l := lab.New(t, lab.Config{IPv6: true})
	b, err := os.ReadFile("../nfteval/testdata/fw4-inbound.nft")
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "fw4.nft")
	text := strings.ReplaceAll(string(b), "/etc/nftables.d/*.nft", filepath.Join(t.TempDir(), "*.nft"))
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := l.Router.Run("nft", "-f", f); err != nil {
		t.Fatalf("load fw4: %v\n%s", err, out)
	}
	got := inspectInbound(t, l)
	want := map[vpn.Protocol][]string{
		vpn.IPsec: {"192.168.1.10 192.168.1.10 accept []", "2001:db8:1::10 - reject [esp]"},
		vpn.L2TP:  {"192.168.1.10 192.168.1.10 accept []", "2001:db8:1::10 - accept []"},
		vpn.PPTP:  {"192.168.1.10 192.168.1.10 accept []", "2001:db8:1::10 - reject [tcp/1723 gre]"},
	}
	for p, ws := range want {
		if len(got[p]) != len(ws) {
			t.Fatalf("%s: %d entries, want %d", p, len(got[p]), len(ws))
		}
		for i, w := range ws {
			if g := entryText(got[p][i]); g != w || got[p][i].DecidedBy == nil {
				t.Errorf("%s[%d] = %s by %+v, want %s", p, i, g, got[p][i].DecidedBy, w)
			}
		}
	}
}
