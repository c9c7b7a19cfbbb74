package diagnose

import (
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/test/golden"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/helpers"
	"github.com/vpnpass/vpnpass/netfilter"
)

type scenario struct {
	name    string
	steps   [][]step
	obs     []obsSnap
	ctx     Context
	judgeAt time.Duration
	want    []string // "host code" in the order Findings returns them
}

func natCtx() Context { return Context{RouterNATs: true, PPTPHelper: helpers.Builtin} }

func withCtx(c Context, fn func(*Context)) Context { fn(&c); return c }

var (
	ike   = func(id uint32, h ...any) conntrack.Flow { return udpFlow(id, hostA, vpn.PortIKE) }
	nattA = udpFlow(2, hostA, vpn.PortNATT)
	espA  = fl(3, vpn.ProtoESP, hostA, 0, server, 0, true)
	espB  = fl(13, vpn.ProtoESP, hostB, 0, server, 0, true)
	pptpA = fl(4, vpn.ProtoTCP, hostA, 50000, server, vpn.PortPPTP, true)
	// GRE with the PPTP helper: both call IDs known. Without: srckey 0.
	greKeyed   = fl(5, vpn.ProtoGRE, hostA, 0x1234, server, 0x4321, true)
	greKeyless = fl(5, vpn.ProtoGRE, hostA, 0, server, 0x4321, true)
	greBack    = fl(6, vpn.ProtoGRE, server, 0, wanIP, 0x1234, false)
	l2tpA      = udpFlow(7, hostA, vpn.PortL2TP)
)

func drop(l4 uint8, port uint16) DropRule {
	return DropRule{Element: vpn.Element{Family: vpn.IPv4, L4: l4, Port: port}, Verdict: netfilter.Drop,
		DecidedBy: netfilter.Decider{Table: "fw4", Chain: "forward_lan", Handle: 42, Comment: "!fw4: reject lan to wan", Backend: netfilter.KindFW4}}
}

// forHost turns a drop into one that applies to host only: accept for an
// arbitrary LAN host, the drop as the host's exception.
func forHost(d DropRule, host string) DropRule {
	a := netip.MustParseAddr(host)
	d.Exceptions = []netfilter.Exception{netfilter.NewException(netfilter.HostValue{Field: netfilter.FieldSaddr, Lo: a, Hi: a,
		Match: "ip saddr " + host, Value: host}, netfilter.Explanation{Verdict: d.Verdict, DecidedBy: &d.DecidedBy})}
	d.Verdict, d.DecidedBy = netfilter.Accept, netfilter.Decider{}
	return d
}

func scenarios() []scenario {
	s := []scenario{
		{name: "ipsec-ok-natt", steps: [][]step{
			lifecycle(ike(1), 0, sec(0.02), never, never),
			lifecycle(nattA, sec(0.05), sec(0.06), sec(3), never),
		}, ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.10 vpn-ok"}},
		{name: "ipsec-ok-raw-esp-public-lan", steps: [][]step{
			lifecycle(fl(1, vpn.ProtoUDP, hostA, 500, server, 500, false), 0, sec(0.02), never, never),
			lifecycle(fl(3, vpn.ProtoESP, hostA, 0, server, 0, false), sec(0.1), sec(0.2), never, never),
		}, ctx: Context{}, judgeAt: sec(40), want: []string{"192.168.1.10 vpn-ok"}},
		{name: "ike-unanswered", steps: [][]step{
			lifecycle(ike(1), 0, never, never, never),
		}, ctx: natCtx(), judgeAt: sec(31), want: []string{"192.168.1.10 ike-unanswered"}},
		{name: "natt-blocked", steps: [][]step{
			lifecycle(ike(1), 0, sec(0.02), never, never),
			lifecycle(nattA, sec(0.05), never, never, never),
		}, ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.10 natt-blocked"}},
		{name: "natt-not-negotiated", steps: [][]step{
			lifecycle(ike(1), 0, sec(0.02), never, never),
		}, ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.10 natt-not-negotiated"}},
		{name: "natt-not-negotiated-raw-esp-works", steps: [][]step{
			lifecycle(ike(1), 0, sec(0.02), never, never),
			lifecycle(espA, sec(0.1), sec(0.15), never, never),
		}, ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.10 natt-not-negotiated"}},
		{name: "esp-blocked", steps: [][]step{
			lifecycle(fl(1, vpn.ProtoUDP, hostA, 500, server, 500, false), 0, sec(0.02), never, never),
			lifecycle(fl(3, vpn.ProtoESP, hostA, 0, server, 0, false), sec(0.1), never, never, never),
		}, ctx: Context{}, judgeAt: sec(40), want: []string{"192.168.1.10 esp-blocked"}},
		{name: "esp-multiple-clients", steps: [][]step{
			lifecycle(ike(1), 0, sec(0.02), never, never),
			lifecycle(espA, sec(0.1), sec(0.15), never, never),
			lifecycle(udpFlow(11, hostB, vpn.PortIKE), sec(1), sec(1.02), never, never),
			lifecycle(espB, sec(1.1), never, never, never),
		}, ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.10 natt-not-negotiated", "192.168.1.11 esp-multiple-clients"}},
		{name: "ike-auth-failed", steps: [][]step{
			lifecycle(ike(1), 0, sec(0.02), never, sec(35)),
			lifecycle(nattA, sec(0.05), sec(0.06), never, sec(35)),
		}, ctx: natCtx(), judgeAt: sec(35), want: []string{"192.168.1.10 ike-auth-failed"}},
		{name: "gre-blocked", steps: [][]step{
			lifecycle(withHelper(pptpA, "pptp"), 0, sec(0.01), sec(0.02), never),
			lifecycle(greKeyed, sec(0.5), never, never, never),
		}, ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.10 gre-blocked"}},
		{name: "pptp-no-helper", steps: [][]step{
			lifecycle(pptpA, 0, sec(0.01), sec(0.02), never),
			lifecycle(greKeyless, sec(0.5), never, never, never),
			lifecycle(greBack, sec(0.55), never, never, never),
		}, ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.10 pptp-no-helper"}},
		{name: "helper-unavailable", steps: [][]step{
			lifecycle(pptpA, 0, sec(0.01), sec(0.02), never),
			lifecycle(greKeyless, sec(0.5), never, never, never),
		}, ctx: withCtx(natCtx(), func(c *Context) { c.PPTPHelper = helpers.Absent }), judgeAt: sec(40),
			want: []string{"192.168.1.10 helper-unavailable"}},
		{name: "pptp-unanswered", steps: [][]step{
			lifecycle(pptpA, 0, never, never, never),
		}, ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.10 pptp-unanswered"}},
		{name: "pptp-ok", steps: [][]step{
			lifecycle(withHelper(pptpA, "pptp"), 0, sec(0.01), sec(0.02), never),
			lifecycle(withStatus(greKeyed, conntrack.StatusExpected), sec(0.5), sec(0.51), sec(3), never),
		}, ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.10 vpn-ok"}},
		{name: "l2tp-unanswered", steps: [][]step{
			lifecycle(l2tpA, 0, never, never, never),
		}, ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.10 l2tp-unanswered"}},
		{name: "l2tp-without-ipsec", steps: [][]step{
			lifecycle(l2tpA, 0, sec(0.02), never, sec(32)),
		}, ctx: natCtx(), judgeAt: sec(32), want: []string{"192.168.1.10 l2tp-without-ipsec"}},
		{name: "l2tp-ok", steps: [][]step{
			lifecycle(l2tpA, 0, sec(0.02), sec(2.5), never),
		}, ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.10 vpn-ok"}},
		{name: "openvpn-unanswered", steps: [][]step{
			lifecycle(udpFlow(8, hostA, vpn.PortOpenVPN), 0, never, never, never),
		}, ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.10 openvpn-unanswered"}},
		{name: "wireguard-ok", steps: [][]step{
			lifecycle(udpFlow(9, hostA, vpn.PortWireGuard), 0, sec(0.01), sec(2.1), never),
		}, ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.10 vpn-ok"}},
		{name: "wireguard-unanswered", steps: [][]step{
			lifecycle(udpFlow(9, hostA, vpn.PortWireGuard), 0, never, never, never),
		}, ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.10 wireguard-unanswered"}},
		{name: "ah-through-nat", steps: [][]step{
			lifecycle(ike(1), 0, sec(0.02), never, never),
			lifecycle(fl(10, vpn.ProtoAH, hostA, 0, server, 0, true), sec(0.1), never, never, never),
		}, ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.10 ah-through-nat"}},
	}
	return append(s, precedenceScenarios()...)
}

// precedenceScenarios combine causes; the most specific must win and the
// others must appear as tagged evidence.
func precedenceScenarios() []scenario {
	return []scenario{
		{name: "firewall-drops-observer", obs: []obsSnap{
			{0, nil},
			{sec(5), []vpn.ObserverEntry{obs(hostA, vpn.ObsIKE, vpn.DirOut, 4)}},
		}, ctx: withCtx(natCtx(), func(c *Context) { c.Drops = []DropRule{drop(vpn.ProtoUDP, 500)} }),
			judgeAt: sec(40), want: []string{"192.168.1.10 firewall-drops"}},
		{name: "firewall-drops-natt-by-inspection", steps: [][]step{
			lifecycle(ike(1), 0, sec(0.02), never, never),
		}, ctx: withCtx(natCtx(), func(c *Context) { c.Drops = []DropRule{drop(vpn.ProtoUDP, 4500)} }),
			judgeAt: sec(40), want: []string{"192.168.1.10 firewall-drops"}},
		// The firewall drops NAT-T for one other host only: not this one's cause.
		{name: "firewall-drops-other-host-only", steps: [][]step{
			lifecycle(ike(1), 0, sec(0.02), never, never),
		}, ctx: withCtx(natCtx(), func(c *Context) { c.Drops = []DropRule{forHost(drop(vpn.ProtoUDP, 4500), "192.168.1.50")} }),
			judgeAt: sec(40), want: []string{"192.168.1.10 natt-not-negotiated"}},
		// ... and for this host only: the cause.
		{name: "firewall-drops-this-host-only", steps: [][]step{
			lifecycle(ike(1), 0, sec(0.02), never, never),
		}, ctx: withCtx(natCtx(), func(c *Context) { c.Drops = []DropRule{forHost(drop(vpn.ProtoUDP, 4500), "192.168.1.10")} }),
			judgeAt: sec(40), want: []string{"192.168.1.10 firewall-drops"}},
		{name: "firewall-drops-natt-by-observer", steps: [][]step{
			lifecycle(ike(1), 0, sec(0.02), never, never),
		}, obs: []obsSnap{{0, nil}, {sec(2), []vpn.ObserverEntry{obs(hostA, vpn.ObsIKE, vpn.DirOut, 2), obs(hostA, vpn.ObsIKE4500, vpn.DirOut, 3)}}},
			ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.10 firewall-drops"}},
		{name: "natt-blocked-double-nat", steps: [][]step{
			lifecycle(ike(1), 0, sec(0.02), never, never),
			lifecycle(nattA, sec(0.05), never, never, never),
		}, ctx: withCtx(natCtx(), func(c *Context) {
			c.NAT = NATVerdict{Code: vpn.NATDouble, Class: "private", Device: "eth1", Address: "192.168.0.2"}
		}), judgeAt: sec(40), want: []string{"192.168.1.10 natt-blocked", "192.168.1.10 vpn-behind-double-nat"}},
		// UPnP named the upstream box: the advice says which one to change.
		{name: "ike-unanswered-double-nat-upstream-known", steps: [][]step{
			lifecycle(ike(1), 0, never, never, never),
		}, ctx: withCtx(natCtx(), func(c *Context) {
			c.NAT = NATVerdict{Code: vpn.NATDouble, Class: "private", Device: "eth1", Address: "192.168.0.2", Upstream: "FRITZ!Box 7590 at 192.168.0.1"}
		}), judgeAt: sec(40), want: []string{"192.168.1.10 ike-unanswered", "192.168.1.10 vpn-behind-double-nat"}},
		{name: "gre-blocked-ipv4-sharing", steps: [][]step{
			lifecycle(withHelper(pptpA, "pptp"), 0, sec(0.01), sec(0.02), never),
			lifecycle(greKeyed, sec(0.5), never, never, never),
		}, ctx: withCtx(natCtx(), func(c *Context) {
			c.NAT = NATVerdict{Code: vpn.NATIPv4Sharing, Class: "map-e", Device: "map-wan6", Address: "192.0.0.2"}
		}), judgeAt: sec(40), want: []string{"192.168.1.10 gre-blocked", "192.168.1.10 ipv4-sharing"}},
		{name: "ok-behind-cgnat-adds-nothing", steps: [][]step{
			lifecycle(ike(1), 0, sec(0.02), never, never),
			lifecycle(nattA, sec(0.05), sec(0.06), sec(3), never),
		}, ctx: withCtx(natCtx(), func(c *Context) { c.NAT = NATVerdict{Code: vpn.NATCGNAT, Address: "100.64.0.2"} }),
			judgeAt: sec(40), want: []string{"192.168.1.10 vpn-ok"}},
		{name: "ike-auth-failed-slow-login-observed", steps: [][]step{
			lifecycle(ike(1), 0, sec(0.02), never, never),
			lifecycle(nattA, sec(0.05), sec(0.06), sec(2.5), never), // EAP took 2.5 s: ASSURED without data
		}, obs: []obsSnap{{0, nil}, {sec(3), []vpn.ObserverEntry{obs(hostA, vpn.ObsIKE4500, vpn.DirOut, 6), obs(hostA, vpn.ObsIKE4500, vpn.DirIn, 6)}}},
			ctx: withCtx(natCtx(), func(c *Context) { c.Observing = true }), judgeAt: sec(40),
			want: []string{"192.168.1.10 ike-auth-failed"}},
		{name: "ipsec-ok-observed", steps: [][]step{
			lifecycle(ike(1), 0, sec(0.02), never, never),
			lifecycle(nattA, sec(0.05), sec(0.06), sec(2.5), never),
		}, obs: []obsSnap{{0, nil}, {sec(3), []vpn.ObserverEntry{obs(hostA, vpn.ObsIKE4500, vpn.DirOut, 3), obs(hostA, vpn.ObsIKE4500, vpn.DirIn, 3),
			obs(hostA, vpn.ObsESPInUDP, vpn.DirOut, 40), obs(hostA, vpn.ObsESPInUDP, vpn.DirIn, 38)}}},
			ctx: withCtx(natCtx(), func(c *Context) { c.Observing = true }), judgeAt: sec(40),
			want: []string{"192.168.1.10 vpn-ok"}},
		// The kernel refuses a second host's raw ESP to the same server at
		// the NAT (no ports to tell them apart): no conntrack entry, only the
		// observer's count. That is the clash, not this router's filter.
		{name: "esp-multiple-clients-nat-clash", steps: [][]step{
			lifecycle(espA, 0, sec(0.05), never, never),
		}, obs: []obsSnap{{0, nil}, {sec(2), []vpn.ObserverEntry{obs(hostA, vpn.ObsESP, vpn.DirOut, 3), obs(hostA, vpn.ObsESP, vpn.DirIn, 3),
			obs(hostB, vpn.ObsESP, vpn.DirOut, 3)}}},
			ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.11 esp-multiple-clients"}},
		{name: "firewall-drops-esp-no-other-host", obs: []obsSnap{{0, nil}, {sec(2), []vpn.ObserverEntry{obs(hostB, vpn.ObsESP, vpn.DirOut, 3)}}},
			ctx: natCtx(), judgeAt: sec(40), want: []string{"192.168.1.11 firewall-drops"}},
		{name: "router-own-ike-unanswered", steps: [][]step{
			lifecycle(fl(1, vpn.ProtoUDP, wanIP, 500, server, 500, false), 0, never, never, never),
		}, ctx: natCtx(), judgeAt: sec(40), want: []string{"198.51.100.2 ike-unanswered"}},
		{name: "ipv6-esp-blocked-no-nat-findings", steps: [][]step{
			lifecycle(fl(1, vpn.ProtoUDP, host6, 500, server6, 500, false), 0, sec(0.02), never, never),
			lifecycle(fl(3, vpn.ProtoESP, host6, 0, server6, 0, false), sec(0.1), never, never, never),
		}, ctx: withCtx(natCtx(), func(c *Context) { c.NAT = NATVerdict{Code: vpn.NATDouble} }),
			judgeAt: sec(40), want: []string{"2001:db8:1::10 esp-blocked"}},
	}
}

// run feeds a scenario into a tracker and judges it.
func (sc scenario) run() (*Tracker, []Finding) {
	tr := NewTracker(testNet)
	type item struct {
		at  time.Duration
		ev  *conntrack.Event
		obs []vpn.ObserverEntry
	}
	var items []item
	for _, group := range sc.steps {
		for _, st := range group {
			ev := conntrack.Event{Type: st.typ, Flow: st.flow, Time: t0.Add(st.at)}
			items = append(items, item{at: st.at, ev: &ev})
		}
	}
	for _, o := range sc.obs {
		items = append(items, item{at: o.at, obs: append([]vpn.ObserverEntry{}, o.entries...)})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].at < items[j].at })
	for _, it := range items {
		if it.ev != nil {
			tr.Apply(*it.ev)
		} else {
			tr.Observe(it.obs, t0.Add(it.at))
		}
	}
	ctx := sc.ctx
	ctx.Now = t0.Add(sc.judgeAt)
	tr.Judge(ctx)
	return tr, tr.Findings()
}

func TestDiagnoseScenarios(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			_, got := sc.run()
			var codes []string
			for _, f := range got {
				codes = append(codes, f.Host+" "+string(f.Code))
			}
			if strings.Join(codes, "|") != strings.Join(sc.want, "|") {
				t.Fatalf("findings = %q, want %q", codes, sc.want)
			}
			golden.JSON(t, filepath.Join("testdata", "findings", sc.name+".json"), got)
		})
	}
}

// TestHasEvidence pins the fact comparison outrank uses: every field counts
// except Code.
func TestHasEvidence(t *testing.T) {
	list := []Evidence{
		{Kind: "flow", Proto: "udp", Src: "192.168.1.10", SrcPort: 500, Code: "x"},
		{Kind: "rule", Table: "fw4", Chain: "forward", Handle: 7, Verdict: "drop"},
	}
	cases := []struct {
		name string
		e    Evidence
		want bool
	}{
		{"same flow, other code", Evidence{Kind: "flow", Proto: "udp", Src: "192.168.1.10", SrcPort: 500, Code: "y"}, true},
		{"same rule", Evidence{Kind: "rule", Table: "fw4", Chain: "forward", Handle: 7, Verdict: "drop"}, true},
		{"other port", Evidence{Kind: "flow", Proto: "udp", Src: "192.168.1.10", SrcPort: 4500}, false},
		{"other handle", Evidence{Kind: "rule", Table: "fw4", Chain: "forward", Handle: 8, Verdict: "drop"}, false},
		{"extra field", Evidence{Kind: "flow", Proto: "udp", Src: "192.168.1.10", SrcPort: 500, Packets: 1}, false},
	}
	for _, c := range cases {
		if got := hasEvidence(list, &c.e); got != c.want {
			t.Errorf("%s: hasEvidence = %v, want %v", c.name, got, c.want)
		}
		if list[0].Code != "x" {
			t.Fatalf("%s: hasEvidence changed a Code: %q", c.name, list[0].Code)
		}
	}
}
