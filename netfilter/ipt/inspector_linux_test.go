package ipt

import (
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/test/lab"
)

const exchangeTimeout = 1500 * time.Millisecond

// lanPacket is a LAN→WAN packet of the lab, as the agent would evaluate it.
func lanPacket(l *lab.Lab, fam vpn.Family, l4 uint8, port uint16) netfilter.Packet {
	p := netfilter.Packet{Family: fam, L4: l4, SrcPort: 40000, DstPort: port, Src: lab.LANHost, Dst: lab.Server,
		InIf: lab.LANDevice, OutIf: l.WANDevice, CtState: "new"}
	if fam == vpn.IPv6 {
		p.Src, p.Dst = lab.LANHost6, lab.Server6
	}
	return p
}

func evaluate(t *testing.T, l *lab.Lab, in *Inspector, p netfilter.Packet) netfilter.Explanation {
	t.Helper()
	chains := inRouter(t, l, func() ([]netfilter.Chain, error) { return in.Chains("forward", p.Family) })
	if len(chains) == 0 {
		t.Fatalf("no %s forward chain", p.Family)
	}
	for _, c := range chains {
		r := c.Ref()
		if r.Backend != in.Kind || r.Hook != "forward" || r.Family != famName(p.Family) {
			t.Errorf("chain ref %+v", r)
		}
	}
	return netfilter.EvaluateHook(chains, p)
}

func exchange(l *lab.Lab, dst netip.AddrPort) error {
	_, _, err := lab.UDPExchange(l.LAN, dst, []byte("vpnpass"), exchangeTimeout)
	return err
}

// TestAllowEndToEnd: with FORWARD closed, LAN UDP to 203.0.113.10:1701 (and
// its IPv6 twin) is dropped by policy, and the inspector says so; after
// allow it is echoed, and the inspector names our rule.
func TestAllowEndToEnd(t *testing.T) {
	for _, v := range Variants {
		t.Run(v, func(t *testing.T) {
			l := lab.New(t, lab.Config{Firewalls: []lab.Firewall{dropFirewall(v)}, IPv6: true})
			in, err := NewInspector(v)
			if err != nil {
				t.Fatal(err)
			}
			dsts := map[vpn.Family]netip.AddrPort{
				vpn.IPv4: netip.AddrPortFrom(lab.Server, 1701),
				vpn.IPv6: netip.AddrPortFrom(lab.Server6, 1701),
			}
			for _, dst := range dsts {
				if _, err := l.Inet.ServeUDPEcho(dst); err != nil {
					t.Fatal(err)
				}
			}
			for fam, dst := range dsts {
				if err := exchange(l, dst); err == nil {
					t.Errorf("%s: UDP 1701 passed a closed FORWARD", fam)
				}
				e := evaluate(t, l, in, lanPacket(l, fam, vpn.ProtoUDP, 1701))
				if e.Verdict != netfilter.Drop || e.DecidedBy == nil || e.DecidedBy.Policy != "drop" || e.DecidedBy.Chain != "FORWARD" {
					t.Errorf("%s before: %s by %+v, want drop by FORWARD policy", fam, e.Verdict, e.DecidedBy)
				}
			}
			b := newBackend(t, l, Options{Variant: v})
			apply(t, l, b, netfilter.Desired{vpn.L2TP: netfilter.ModeAllow})
			for fam, dst := range dsts {
				if err := exchange(l, dst); err != nil {
					t.Errorf("%s: after allow: %v", fam, err)
				}
				e := evaluate(t, l, in, lanPacket(l, fam, vpn.ProtoUDP, 1701))
				d := e.DecidedBy
				if e.Verdict != netfilter.Accept || d == nil || d.Chain != ChainFwd || d.Comment != "vpnpass:l2tp" || d.Handle == 0 || d.Backend != KindOf(v) {
					t.Errorf("%s after: %s by %+v, want accept by our rule", fam, e.Verdict, d)
				}
				// Something else stays dropped: we opened nothing more.
				if e := evaluate(t, l, in, lanPacket(l, fam, vpn.ProtoUDP, 1702)); e.Verdict != netfilter.Drop {
					t.Errorf("%s udp/1702 after allow: %s", fam, e.Verdict)
				}
			}
		})
	}
}

// TestBlockEndToEnd: on a permissive router, block stops traffic that
// passed before, and default lets it pass again.
func TestBlockEndToEnd(t *testing.T) {
	for _, v := range Variants {
		t.Run(v, func(t *testing.T) {
			l := lab.New(t, lab.Config{})
			dst := netip.AddrPortFrom(lab.Server, 500)
			if _, err := l.Inet.ServeUDPEcho(dst); err != nil {
				t.Fatal(err)
			}
			if err := exchange(l, dst); err != nil {
				t.Fatalf("permissive router: %v", err)
			}
			b := newBackend(t, l, Options{Variant: v})
			apply(t, l, b, netfilter.Desired{vpn.IPsec: netfilter.ModeBlock})
			if err := exchange(l, dst); err == nil {
				t.Error("UDP 500 passed after block")
			}
			in, err := NewInspector(v)
			if err != nil {
				t.Fatal(err)
			}
			e := evaluate(t, l, in, lanPacket(l, vpn.IPv4, vpn.ProtoUDP, 500))
			if e.Verdict != netfilter.Drop || e.DecidedBy == nil || e.DecidedBy.Comment != "vpnpass:ipsec" {
				t.Errorf("after block: %s by %+v", e.Verdict, e.DecidedBy)
			}
			apply(t, l, b, netfilter.Desired{})
			if err := exchange(l, dst); err != nil {
				t.Errorf("after default: %v", err)
			}
		})
	}
}

// TestPPTPHelper: pptp allow assigns the helper (the inspector finds our
// rule) and a real TCP connection to port 1723 gets helper=pptp in
// conntrack. The inspector also sees the lab's masquerade.
func TestPPTPHelper(t *testing.T) {
	if _, err := exec.LookPath("conntrack"); err != nil {
		skipOrFail(t, err)
	}
	for _, v := range Variants {
		t.Run(v, func(t *testing.T) {
			l := lab.New(t, lab.Config{Firewalls: []lab.Firewall{dropFirewall(v)}})
			dst := netip.AddrPortFrom(lab.Server, 1723)
			if _, err := l.Inet.ServeTCPEcho(dst); err != nil {
				t.Fatal(err)
			}
			b := newBackend(t, l, Options{Variant: v})
			apply(t, l, b, netfilter.Desired{vpn.PPTP: netfilter.ModeAllow})
			in, err := NewInspector(v)
			if err != nil {
				t.Fatal(err)
			}
			hs := inRouter(t, l, in.HelperAssignments)
			var ours []string
			for _, h := range hs {
				if h.Owner == "vpnpass" && h.Helper == "pptp" && h.Chain == ChainHelper {
					ours = append(ours, h.Rule)
				}
			}
			if len(ours) != 2 {
				t.Errorf("our pptp assignments: %v (all: %+v)", ours, hs)
			}
			if _, _, err := lab.TCPExchange(l.LAN, dst, []byte("pptp?"), 3*time.Second); err != nil {
				t.Fatalf("TCP 1723 after allow: %v", err)
			}
			out, err := l.Router.Run("conntrack", "-L", "-p", "tcp", "--dport", "1723")
			if err != nil {
				t.Fatalf("conntrack: %v", err)
			}
			if !strings.Contains(string(out), "helper=pptp") {
				t.Errorf("no helper=pptp on the TCP 1723 flow:\n%s", out)
			}
			for wan, want := range map[string]bool{l.WANDevice: true, "eth9": false} {
				if got := inRouter(t, l, func() (bool, error) { return in.Masquerade(wan) }); got != want {
					t.Errorf("Masquerade(%s) = %v, want %v", wan, got, want)
				}
			}
		})
	}
}

// TestInspectorFW3: the inspector follows fw3's chains; a locked fw3
// rejects, our allow in forwarding_rule accepts ahead of it.
func TestInspectorFW3(t *testing.T) {
	l := lab.New(t, lab.Config{Firewalls: []lab.Firewall{lab.FW3Locked}})
	in, err := NewInspector(VariantLegacy)
	if err != nil {
		t.Fatal(err)
	}
	in.Kind = netfilter.KindFW3
	p := lanPacket(l, vpn.IPv4, vpn.ProtoUDP, 4500)
	if e := evaluate(t, l, in, p); e.Verdict != netfilter.Reject || e.DecidedBy == nil || e.DecidedBy.Chain != "reject" {
		t.Errorf("locked fw3: %s by %+v, want reject by chain reject", e.Verdict, e.DecidedBy)
	}
	b := newBackend(t, l, Options{Variant: VariantLegacy, FW3: true})
	apply(t, l, b, netfilter.Desired{vpn.IPsec: netfilter.ModeAllow})
	e := evaluate(t, l, in, p)
	if e.Verdict != netfilter.Accept || e.DecidedBy == nil || e.DecidedBy.Chain != ChainFwd || e.DecidedBy.Backend != netfilter.KindFW3 {
		t.Errorf("fw3 + allow: %s by %+v", e.Verdict, e.DecidedBy)
	}
	var path []string
	for _, s := range e.Path {
		path = append(path, s.Chain+":"+s.Effect)
	}
	if want := "FORWARD:jump forwarding_rule:jump vpnpass_fwd:accept"; !strings.HasSuffix(strings.Join(path, " "), want) {
		t.Errorf("path %v, want it to end %s", path, want)
	}
	if got := inRouter(t, l, func() (bool, error) { return in.Masquerade(l.WANDevice) }); !got {
		t.Error("fw3 masquerade not found")
	}
	dst := netip.AddrPortFrom(lab.Server, 4500)
	if _, err := l.Inet.ServeUDPEcho(dst); err != nil {
		t.Fatal(err)
	}
	if err := exchange(l, dst); err != nil {
		t.Errorf("UDP 4500 through locked fw3 after allow: %v", err)
	}
}
