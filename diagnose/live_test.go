package diagnose

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/vpn"
)

// act is one thing that happens to a tracker at an offset from t0: an
// event, an observer snapshot, a refresh of offloaded flows, or a
// judgement after which the session's findings must be want ("" = none).
type act struct {
	at      time.Duration
	ev      *conntrack.Event
	obs     []vpn.ObserverEntry
	refresh []conntrack.Flow
	judge   bool
	want    string
	params  map[string]any // params the first finding must have
}

func evAt(at time.Duration, typ conntrack.EventType, f conntrack.Flow) act {
	return act{at: at, ev: &conntrack.Event{Type: typ, Flow: f, Time: t0.Add(at)}}
}
func obsAt(at time.Duration, e ...vpn.ObserverEntry) act { return act{at: at, obs: e} }
func judgeAt(at time.Duration, want string) act          { return act{at: at, judge: true, want: want} }

func offloaded(f conntrack.Flow, op, rp uint64) conntrack.Flow {
	return withCounters(withStatus(f, conntrack.StatusSeenReply|conntrack.StatusOffload), op, rp)
}

// TestLiveJudgement: a session is said to work while it runs, within one
// judging tick of the evidence; failures still wait for quiet or the end;
// a reconnect that fails replaces vpn-ok. Before, nothing was said until
// the session had been quiet for 30 s.
func TestLiveJudgement(t *testing.T) {
	seen := withStatus(udpFlow(1, hostA, 500), conntrack.StatusSeenReply)
	natt := udpFlow(2, hostA, 4500)
	pptp := withStatus(pptpA, conntrack.StatusSeenReply|conntrack.StatusAssured)
	cases := []struct {
		name string
		ctx  Context
		acts []act
	}{
		{"natt with the observer, live then ended", withCtx(natCtx(), func(c *Context) { c.Observing = true }), []act{
			obsAt(0),
			evAt(0, conntrack.EventNew, udpFlow(1, hostA, 500)),
			evAt(sec(0.1), conntrack.EventUpdate, seen),
			evAt(sec(0.3), conntrack.EventNew, natt),
			evAt(sec(0.4), conntrack.EventUpdate, withStatus(natt, conntrack.StatusSeenReply)),
			judgeAt(sec(1), ""), // IKE answered, no data yet
			obsAt(sec(2), obs(hostA, vpn.ObsESPInUDP, vpn.DirOut, 5), obs(hostA, vpn.ObsESPInUDP, vpn.DirIn, 5)),
			{at: sec(2), judge: true, want: "vpn-ok", params: map[string]any{"live": true, "natt": true, "answered": "udp/500,udp/4500,udp/4500-esp",
				"since": "2025-03-01T12:00:00Z", "data_since": "2025-03-01T12:00:02Z", "packets_in": uint64(5)}},
			obsAt(sec(8), obs(hostA, vpn.ObsESPInUDP, vpn.DirOut, 50), obs(hostA, vpn.ObsESPInUDP, vpn.DirIn, 48)),
			judgeAt(sec(8), "vpn-ok"),
			evAt(sec(20), conntrack.EventDestroy, seen),
			evAt(sec(21), conntrack.EventDestroy, withStatus(natt, conntrack.StatusSeenReply)),
			{at: sec(22), judge: true, want: "vpn-ok", params: map[string]any{"live": false, "packets_out": uint64(50), "packets_in": uint64(48)}},
		}},
		{"pptp with gre both ways", natCtx(), []act{
			evAt(0, conntrack.EventNew, withHelper(pptpA, "pptp")),
			evAt(sec(0.1), conntrack.EventUpdate, withHelper(pptp, "pptp")),
			evAt(sec(0.5), conntrack.EventNew, greKeyed),
			judgeAt(sec(1), ""),
			evAt(sec(1.5), conntrack.EventUpdate, withStatus(greKeyed, conntrack.StatusSeenReply)),
			judgeAt(sec(2), "vpn-ok"),
		}},
		{"a failing reconnect replaces vpn-ok", natCtx(), []act{
			evAt(0, conntrack.EventNew, withHelper(pptpA, "pptp")),
			evAt(sec(0.1), conntrack.EventUpdate, withHelper(pptp, "pptp")),
			evAt(sec(0.5), conntrack.EventNew, greKeyed),
			evAt(sec(0.6), conntrack.EventUpdate, withStatus(greKeyed, conntrack.StatusSeenReply)),
			judgeAt(sec(1), "vpn-ok"),
			evAt(sec(5), conntrack.EventDestroy, withHelper(pptp, "pptp")),
			evAt(sec(5), conntrack.EventDestroy, withStatus(greKeyed, conntrack.StatusSeenReply)),
			judgeAt(sec(6), "vpn-ok"),
			evAt(sec(10), conntrack.EventNew, fl(14, vpn.ProtoTCP, hostA, 50001, server, vpn.PortPPTP, true)),
			judgeAt(sec(12), "vpn-ok"), // not answered yet: nothing new to say
			evAt(sec(22), conntrack.EventDestroy, fl(14, vpn.ProtoTCP, hostA, 50001, server, vpn.PortPPTP, true)),
			judgeAt(sec(23), "pptp-unanswered"),
		}},
		{"observer counts read just after the end do not hold the session open", withCtx(natCtx(), func(c *Context) { c.Observing = true }), []act{
			obsAt(0),
			evAt(0, conntrack.EventNew, withHelper(pptpA, "pptp")),
			evAt(sec(0.1), conntrack.EventUpdate, withHelper(pptp, "pptp")),
			evAt(sec(0.5), conntrack.EventNew, greKeyed),
			evAt(sec(0.6), conntrack.EventUpdate, withStatus(greKeyed, conntrack.StatusSeenReply)),
			obsAt(sec(1), obs(hostA, vpn.ObsGRE, vpn.DirOut, 10), obs(hostA, vpn.ObsGRE, vpn.DirIn, 10)),
			judgeAt(sec(1), "vpn-ok"),
			evAt(sec(5), conntrack.EventDestroy, withHelper(pptp, "pptp")),
			evAt(sec(5), conntrack.EventDestroy, withStatus(greKeyed, conntrack.StatusSeenReply)),
			// GRE sent between the reads at +1 and +5, counted at +6.
			obsAt(sec(6), obs(hostA, vpn.ObsGRE, vpn.DirOut, 12), obs(hostA, vpn.ObsGRE, vpn.DirIn, 12)),
			judgeAt(sec(6), "vpn-ok"),
			evAt(sec(10), conntrack.EventNew, fl(14, vpn.ProtoTCP, hostA, 50001, server, vpn.PortPPTP, true)),
			obsAt(sec(11), obs(hostA, vpn.ObsGRE, vpn.DirOut, 12), obs(hostA, vpn.ObsGRE, vpn.DirIn, 12), obs(hostA, vpn.ObsPPTP, vpn.DirOut, 3)),
			evAt(sec(22), conntrack.EventDestroy, fl(14, vpn.ProtoTCP, hostA, 50001, server, vpn.PortPPTP, true)),
			judgeAt(sec(23), "pptp-unanswered"),
		}},
		{"plain l2tp answered is not said to work live", natCtx(), []act{
			evAt(0, conntrack.EventNew, l2tpA),
			evAt(sec(0.1), conntrack.EventUpdate, withStatus(l2tpA, conntrack.StatusSeenReply)),
			judgeAt(sec(2), ""),
			judgeAt(sec(31), "l2tp-without-ipsec"),
		}},
		{"ike answered, auth refused: nothing live, ike-auth-failed once quiet", withCtx(natCtx(), func(c *Context) { c.Observing = true }), []act{
			obsAt(0),
			evAt(0, conntrack.EventNew, udpFlow(1, hostA, 500)),
			evAt(sec(0.1), conntrack.EventUpdate, seen),
			evAt(sec(0.3), conntrack.EventNew, natt),
			evAt(sec(0.4), conntrack.EventUpdate, withStatus(natt, conntrack.StatusSeenReply)),
			judgeAt(sec(2), ""),
			judgeAt(sec(31), "ike-auth-failed"),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runActs(t, c.ctx, c.acts) })
	}
}

// TestFlowOffload: fw4's flow_offloading puts the UDP 4500 flow into a
// flowtable once conntrack confirmed it; from then on ESP in UDP reaches
// neither the observer nor conntrack's events, only the entry's counters
// (the flowtable's counter flag). This kernel has no flowtables: the
// entries here carry the status bit as the kernel sets it.
func TestFlowOffload(t *testing.T) {
	observing := withCtx(natCtx(), func(c *Context) { c.Observing = true })
	seen := withStatus(udpFlow(1, hostA, 500), conntrack.StatusSeenReply)
	natt := udpFlow(2, hostA, 4500)
	start := []act{
		obsAt(0),
		evAt(0, conntrack.EventNew, udpFlow(1, hostA, 500)),
		evAt(sec(0.1), conntrack.EventUpdate, seen),
		evAt(sec(0.3), conntrack.EventNew, withCounters(natt, 1, 0)),
		// The reply is seen by conntrack, then offloaded in the same pass:
		// the event carries both bits.
		evAt(sec(0.4), conntrack.EventUpdate, offloaded(natt, 1, 1)),
		evAt(sec(40), conntrack.EventDestroy, seen), // IKE on UDP 500 times out
	}
	cases := []struct {
		name string
		acts []act
	}{
		{"counters move both ways on the fast path: vpn-ok live, not judged while offloaded", []act{
			judgeAt(sec(1), ""),
			{at: sec(2), refresh: []conntrack.Flow{offloaded(natt, 40, 38)}},
			{at: sec(2), judge: true, want: "vpn-ok", params: map[string]any{"offloaded": true, "live": true, "packets_out": uint64(40)}},
			judgeAt(sec(60), "vpn-ok"), // silent, but on the fast path: no quiet judgement
			evAt(sec(200), conntrack.EventDestroy, offloaded(natt, 900, 880)),
			judgeAt(sec(201), "vpn-ok"),
		}},
		{"software offload with counters, nothing after IKE: ike-auth-failed at the end", []act{
			judgeAt(sec(2), ""),
			judgeAt(sec(75), ""), // quiet, but on the fast path: wait for the end
			evAt(sec(120), conntrack.EventDestroy, offloaded(natt, 1, 1)),
			judgeAt(sec(121), "ike-auth-failed"),
		}},
		{"hardware offload without counters: no verdict on what cannot be seen", []act{
			{at: sec(0.5), refresh: []conntrack.Flow{withStatus(withStatus(natt, conntrack.StatusSeenReply), conntrack.StatusOffload|conntrack.StatusHWOffload)}},
			judgeAt(sec(2), ""),
			evAt(sec(120), conntrack.EventDestroy, withStatus(natt, conntrack.StatusSeenReply|conntrack.StatusHWOffload)),
			judgeAt(sec(121), ""),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runActs(t, observing, append(append([]act{}, start...), c.acts...)) })
	}
	// Offloaded before any reply (a client's second packet is enough in
	// kernels since 5.x): the reply then passes on the fast path and
	// conntrack never sets SEEN_REPLY. Silence proves nothing then.
	t.Run("offloaded before the reply is never unanswered", func(t *testing.T) {
		runActs(t, observing, []act{
			obsAt(0),
			evAt(0, conntrack.EventNew, udpFlow(1, hostA, 500)),
			evAt(sec(0.1), conntrack.EventUpdate, seen),
			evAt(sec(0.3), conntrack.EventNew, natt),
			{at: sec(1), refresh: []conntrack.Flow{withStatus(natt, conntrack.StatusOffload|conntrack.StatusHWOffload)}},
			evAt(sec(40), conntrack.EventDestroy, seen),
			evAt(sec(120), conntrack.EventDestroy, withStatus(natt, conntrack.StatusHWOffload)),
			judgeAt(sec(121), ""),
		})
	})
}

// TestRefreshNeedsAFastPathFlow: only live flows in a flowtable are read
// again; a refresh that changes nothing is no update.
func TestFastPathFlows(t *testing.T) {
	tr := NewTracker(testNet)
	natt := udpFlow(2, hostA, 4500)
	tr.Apply(event(conntrack.EventNew, udpFlow(1, hostA, 500), t0))
	tr.Apply(event(conntrack.EventNew, natt, t0))
	if got := tr.FastPathFlows(); len(got) != 0 {
		t.Fatalf("fast-path flows before any offload: %v", got)
	}
	tr.Apply(event(conntrack.EventUpdate, offloaded(natt, 1, 1), t0.Add(sec(1))))
	if got := tr.FastPathFlows(); len(got) != 1 || got[0].Orig.DstPort != 4500 {
		t.Fatalf("fast-path flows: %v, want the UDP 4500 flow", got)
	}
	s := tr.Sessions()[0]
	v := s.version
	tr.Refresh([]conntrack.Flow{offloaded(natt, 1, 1)}, t0.Add(sec(3)))
	if s.version != v || !s.LastSeen.Equal(t0.Add(sec(1))) {
		t.Fatalf("an unchanged refresh touched the session (version %d→%d, last seen %v)", v, s.version, s.LastSeen)
	}
	tr.Refresh([]conntrack.Flow{offloaded(natt, 5, 4)}, t0.Add(sec(4)))
	if !s.LastSeen.Equal(t0.Add(sec(4))) || s.DataAnswered.IsZero() {
		t.Fatalf("counters moving both ways: last seen %v, data answered %v", s.LastSeen, s.DataAnswered)
	}
}

func runActs(t *testing.T, ctx Context, acts []act) {
	t.Helper()
	sort.SliceStable(acts, func(i, j int) bool { return acts[i].at < acts[j].at })
	tr := NewTracker(testNet)
	for i, a := range acts {
		now := t0.Add(a.at)
		switch {
		case a.ev != nil:
			tr.Apply(*a.ev)
		case a.refresh != nil:
			tr.Refresh(a.refresh, now)
		case a.judge:
			ctx.Now = now
			tr.Judge(ctx)
			var codes []string
			fs := tr.Findings()
			for _, f := range fs {
				codes = append(codes, string(f.Code))
			}
			if got := strings.Join(codes, ","); got != a.want {
				t.Fatalf("act %d: judged at +%v: %q, want %q", i, a.at, got, a.want)
			}
			for k, want := range a.params {
				got := fs[0].Params[k]
				if l, ok := got.([]string); ok {
					got = strings.Join(l, ",")
				}
				if got != want {
					t.Errorf("act %d: param %s = %v (%T), want %v", i, k, got, got, want)
				}
			}
		default:
			tr.Observe(a.obs, now)
		}
	}
}
