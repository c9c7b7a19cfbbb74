package diagnose

import (
	"encoding/json"
	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		name string
		f    conntrack.Flow
		kind vpn.Kind
		role Role
	}{
		{"ike from lan", udpFlow(1, hostA, 500), vpn.KindIKE, RoleLAN},
		{"natt from lan", udpFlow(1, hostA, 4500), vpn.KindNATT, RoleLAN},
		{"l2tp", udpFlow(1, hostA, 1701), vpn.KindL2TP, RoleLAN},
		{"openvpn udp", udpFlow(1, hostA, 1194), vpn.KindOpenVPN, RoleLAN},
		{"openvpn tcp", fl(1, vpn.ProtoTCP, hostA, 5000, server, 1194, true), vpn.KindOpenVPN, RoleLAN},
		{"wireguard", udpFlow(1, hostA, 51820), vpn.KindWireGuard, RoleLAN},
		{"pptp control", pptpA, vpn.KindPPTP, RoleLAN},
		{"gre", greKeyed, vpn.KindGRE, RoleLAN},
		{"esp", espA, vpn.KindESP, RoleLAN},
		{"ah", fl(1, vpn.ProtoAH, hostA, 0, server, 0, true), vpn.KindAH, RoleLAN},
		{"router's own ike", fl(1, vpn.ProtoUDP, wanIP, 500, server, 500, false), vpn.KindIKE, RoleRouter},
		{"gre back to the router", greBack, vpn.KindGRE, RoleInbound},
		{"port-forwarded ike to a lan server", fl(1, vpn.ProtoUDP, server, 500, wanIP, 500, false), vpn.KindIKE, RoleInbound},
		{"lan host to router's vpn", fl(1, vpn.ProtoUDP, hostA, 500, lanIP, 500, false), vpn.KindIKE, RoleInternal},
		{"ipv6 lan", fl(1, vpn.ProtoESP, host6, 0, server6, 0, false), vpn.KindESP, RoleLAN},
		{"https is not a vpn", udpFlow(1, hostA, 443), vpn.KindNone, RoleNone},
		{"tcp 500 is not ike", fl(1, vpn.ProtoTCP, hostA, 5000, server, 500, true), vpn.KindNone, RoleNone},
		{"v4-mapped lan host", fl(1, vpn.ProtoUDP, netip.AddrFrom16(hostA.As16()), 500, server, 500, true), vpn.KindIKE, RoleLAN},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, r := testNet.Classify(c.f)
			if k != c.kind || r != c.role {
				t.Fatalf("Classify = %s/%s, want %s/%s", k, r, c.kind, c.role)
			}
		})
	}
}

// TestPrecedence pins the order of docs/interface.md#doctor: firewall-drops > helper-unavailable
// > pptp-no-helper > blocked beyond this router > the rest. Diagnose keeps
// the rules' order, so every rule must give codes of one tier, and the
// tiers must not decrease along the rules: checked on every rule that
// fires in the scenarios.
func TestPrecedence(t *testing.T) {
	tiers := [][]Code{
		{CodeFirewallDrops},
		{CodeHelperUnavailable},
		{CodePPTPNoHelper, CodeAHThroughNAT},
		{CodeNATTBlocked, CodeIKEUnanswered, CodeGREBlocked, CodeESPBlocked, CodeL2TPUnanswered,
			CodePPTPUnanswered, CodeOpenVPNUnanswered, CodeWireGuardUnanswered},
		{CodeIKEAuthFailed, CodeNATTNotNegotiated, CodeL2TPWithoutIPsec, CodeESPMultipleClients},
	}
	tierOf := map[Code]int{}
	for i, codes := range tiers {
		for _, c := range codes {
			tierOf[c] = i
		}
	}
	ruleTier := map[int]int{}
	for _, sc := range scenarios() {
		tr, _ := sc.run()
		ctx := sc.ctx
		ctx.Now = t0.Add(sc.judgeAt)
		tr.fillContext(&ctx)
		for _, s := range tr.Sessions() {
			f := newFacts(s, &ctx)
			for i, r := range rules {
				c, ok := r(f)
				if !ok {
					continue
				}
				tier, known := tierOf[c.code]
				if !known {
					t.Fatalf("%s: rule %d gives %s, which has no tier here", sc.name, i, c.code)
				}
				if prev, seen := ruleTier[i]; seen && prev != tier {
					t.Errorf("rule %d gives codes of tiers %d and %d", i, prev, tier)
				}
				ruleTier[i] = tier
			}
		}
	}
	if len(ruleTier) != len(rules) {
		t.Errorf("the scenarios fire %d of %d rules", len(ruleTier), len(rules))
	}
	for i := 1; i < len(rules); i++ {
		if a, b := ruleTier[i-1], ruleTier[i]; a > b {
			t.Errorf("rule %d (tier %d) comes after rule %d (tier %d): it would outrank it", i, b, i-1, a)
		}
	}
}

// TestPrecedenceInScenarios checks that the outranked causes stay visible.
func TestPrecedenceInScenarios(t *testing.T) {
	cases := map[string][]string{
		"helper-unavailable":                {"pptp-no-helper"},
		"firewall-drops-natt-by-inspection": {"natt-not-negotiated"},
		"l2tp-unanswered":                   {"l2tp-without-ipsec"},
		"esp-multiple-clients":              nil, // first host: no other cause
	}
	for _, sc := range scenarios() {
		want, ok := cases[sc.name]
		if !ok {
			continue
		}
		_, got := sc.run()
		var also []string
		if a, ok := got[0].Params["also"].([]string); ok {
			also = a
		}
		if !reflect.DeepEqual(also, want) {
			t.Errorf("%s: also = %v, want %v", sc.name, also, want)
		}
	}
}

func TestJudgeTiming(t *testing.T) {
	tr := NewTracker(testNet)
	tr.Apply(event(conntrack.EventNew, udpFlow(1, hostA, 500), t0))
	ctx := natCtx()
	for _, at := range []time.Duration{sec(5), sec(29)} {
		ctx.Now = t0.Add(at)
		if got := tr.Judge(ctx); len(got) != 0 {
			t.Fatalf("judged at +%v before the session was quiet: %v", at, got)
		}
	}
	ctx.Now = t0.Add(sec(30))
	got := tr.Judge(ctx)
	if len(got) != 1 || got[0].Code != CodeIKEUnanswered {
		t.Fatalf("at +30s: %v, want ike-unanswered", got)
	}
	ctx.Now = t0.Add(sec(100))
	if again := tr.Judge(ctx); len(again) != 0 {
		t.Fatalf("an unchanged session was reported twice: %v", again)
	}
	// The reply arrives late: the session changes and is judged again.
	tr.Apply(event(conntrack.EventUpdate, withStatus(udpFlow(1, hostA, 500), conntrack.StatusSeenReply), t0.Add(sec(101))))
	tr.Apply(event(conntrack.EventNew, udpFlow(2, hostA, 4500), t0.Add(sec(101))))
	tr.Apply(event(conntrack.EventUpdate, withStatus(udpFlow(2, hostA, 4500), conntrack.StatusSeenReply|conntrack.StatusAssured), t0.Add(sec(104))))
	ctx.Now = t0.Add(sec(140))
	if got := tr.Judge(ctx); len(got) != 1 || got[0].Code != CodeOK {
		t.Fatalf("after the late answer: %v, want vpn-ok", got)
	}
}

// A flow destroyed before AnswerWithin proves nothing: no finding.
func TestEndedTooSoonIsInconclusive(t *testing.T) {
	tr := NewTracker(testNet)
	f := udpFlow(1, hostA, 500)
	tr.Apply(event(conntrack.EventNew, f, t0))
	tr.Apply(event(conntrack.EventDestroy, f, t0.Add(sec(3))))
	ctx := natCtx()
	ctx.Now = t0.Add(sec(3))
	if s := tr.Sessions()[0]; !s.Due(ctx.Now) || s.Phase() != PhaseEnded {
		t.Fatalf("ended session: due=%v phase=%s", s.Due(ctx.Now), s.Phase())
	}
	if got := tr.Judge(ctx); len(got) != 0 {
		t.Fatalf("judged a 3 s attempt: %v", got)
	}
}

func TestPhases(t *testing.T) {
	tr := NewTracker(testNet)
	ikeF, natt := udpFlow(1, hostA, 500), udpFlow(2, hostA, 4500)
	steps := []struct {
		ev   conntrack.Event
		want Phase
	}{
		{event(conntrack.EventNew, ikeF, t0), PhaseControlSeen},
		{event(conntrack.EventUpdate, withStatus(ikeF, conntrack.StatusSeenReply), t0.Add(sec(0.1))), PhaseControlAnswered},
		{event(conntrack.EventNew, natt, t0.Add(sec(0.2))), PhaseNATTSeen},
		{event(conntrack.EventUpdate, withStatus(natt, conntrack.StatusSeenReply|conntrack.StatusAssured), t0.Add(sec(3))), PhaseDataAnswered},
		{event(conntrack.EventDestroy, withStatus(ikeF, conntrack.StatusSeenReply), t0.Add(sec(60))), PhaseDataAnswered},
		{event(conntrack.EventDestroy, withStatus(natt, conntrack.StatusSeenReply|conntrack.StatusAssured), t0.Add(sec(300))), PhaseEnded},
	}
	for i, st := range steps {
		tr.Apply(st.ev)
		if got := tr.Sessions()[0].Phase(); got != st.want {
			t.Fatalf("step %d (%s): phase %s, want %s", i, st.ev.Type, got, st.want)
		}
	}
}

// After an overrun the watch re-dumps: flows the dump no longer lists ended
// while nobody was listening.
func TestResyncEndsVanishedFlows(t *testing.T) {
	tr := NewTracker(testNet)
	a, b := udpFlow(1, hostA, 500), udpFlow(2, hostB, 500)
	tr.Apply(event(conntrack.EventNew, a, t0))
	tr.Apply(event(conntrack.EventNew, b, t0))
	tr.Apply(event(conntrack.EventDump, withStatus(a, conntrack.StatusSeenReply), t0.Add(sec(5))))
	tr.Apply(conntrack.Event{Type: conntrack.EventSyncDone, Time: t0.Add(sec(5))})
	for _, s := range tr.Sessions() {
		ended := s.Key.Host == hostB
		if s.Ended() != ended {
			t.Errorf("%s: ended=%v, want %v", s.Key.Host, s.Ended(), ended)
		}
	}
	// An empty dump ends everything.
	tr.Apply(conntrack.Event{Type: conntrack.EventSyncDone, Time: t0.Add(sec(6))})
	for _, s := range tr.Sessions() {
		if !s.Ended() {
			t.Errorf("%s survived an empty dump", s.Key.Host)
		}
	}
}

func TestObserverBaselineAndGrowth(t *testing.T) {
	tr := NewTracker(testNet)
	old := obs(hostA, vpn.ObsIKE, vpn.DirOut, 7)
	tr.Observe([]vpn.ObserverEntry{old}, t0)
	if n := len(tr.Sessions()); n != 0 {
		t.Fatalf("the baseline created %d sessions", n)
	}
	tr.Observe([]vpn.ObserverEntry{old}, t0.Add(sec(10)))
	if n := len(tr.Sessions()); n != 0 {
		t.Fatalf("an unchanged counter created %d sessions", n)
	}
	grown := old
	grown.Packets = 9
	tr.Observe([]vpn.ObserverEntry{grown, obs(hostB, vpn.ObsGRE, vpn.DirOut, 1)}, t0.Add(sec(20)))
	if n := len(tr.Sessions()); n != 2 {
		t.Fatalf("growth and a new entry gave %d sessions, want 2", n)
	}
}

func TestTrackerBounds(t *testing.T) {
	tr := NewTracker(testNet)
	tr.MaxSessions = 8
	for i := 0; i < 100; i++ {
		h := netip.AddrFrom4([4]byte{192, 168, 1, byte(20 + i)})
		tr.Apply(event(conntrack.EventNew, udpFlow(uint32(i+1), h, 500), t0.Add(time.Duration(i)*time.Second)))
	}
	if n := len(tr.Sessions()); n != 8 {
		t.Fatalf("%d sessions, want the cap of 8", n)
	}
	if len(tr.flows) != 8 {
		t.Fatalf("flow index holds %d entries after eviction, want 8", len(tr.flows))
	}
	for i := 0; i < 200; i++ {
		tr.Apply(event(conntrack.EventNew, udpFlow(uint32(1000+i), hostA, 4500), t0))
	}
	for _, s := range tr.Sessions() {
		if len(s.Flows) > maxFlowsPerSession {
			t.Fatalf("session holds %d flows", len(s.Flows))
		}
	}
	tr.Expire(t0.Add(IdleLimit + 200*time.Second))
	if n := len(tr.Sessions()); n != 0 {
		t.Fatalf("%d idle sessions survived Expire", n)
	}
}

func TestFindingJSONRoundTrip(t *testing.T) {
	_, got := scenarios()[3].run() // natt-blocked
	b, err := json.Marshal(got[0])
	if err != nil {
		t.Fatal(err)
	}
	var back Finding
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if string(b) != string(b2) {
		t.Fatalf("round trip changed the finding:\n%s\n%s", b, b2)
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(b, &keys)
	for _, k := range []string{"code", "severity", "protocol", "host", "host_name", "host_mac", "peer",
		"first_seen", "last_seen", "message", "advice", "params", "evidence"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("field %q missing", k)
		}
	}
	if len(keys) != 13 {
		t.Errorf("%d fields, docs/interface.md#doctor has 13", len(keys))
	}
}

func TestHostInfoNamesTheDevice(t *testing.T) {
	sc := scenarios()[3]
	sc.ctx.HostInfo = func(a netip.Addr) (string, string) { return "laptop", "02:00:00:00:00:10" }
	_, got := sc.run()
	f := got[0]
	if f.HostName != "laptop" || f.HostMAC != "02:00:00:00:00:10" {
		t.Fatalf("host_name/host_mac = %q/%q", f.HostName, f.HostMAC)
	}
	if want := "Your device laptop (192.168.1.10) sent"; f.Message[:len(want)] != want {
		t.Fatalf("message %q does not name the device", f.Message)
	}
}

// BenchmarkTrackerApply measures the tracker's cost per VPN event (the
// classification of non-VPN flows included: every third event).
func BenchmarkTrackerApply(b *testing.B) {
	tr := NewTracker(testNet)
	flows := []conntrack.Flow{udpFlow(1, hostA, 500), udpFlow(2, hostA, 4500), udpFlow(3, hostA, 443)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		f := flows[i%3]
		f.ID = uint32(i % 1000)
		tr.Apply(conntrack.Event{Type: conntrack.EventUpdate, Flow: f, Time: t0})
	}
}
