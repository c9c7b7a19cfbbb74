package conntrack_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/diagnose"
	"github.com/vpnpass/vpnpass/test/golden"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter/observer"
	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/test/peers/swan"
)

// e2e couples a lab router with a watch, the observer and a tracker fed by
// both, as the agent will.
type e2e struct {
	l      *lab.Lab
	obs    observer.Table
	events chan conntrack.Event
	tr     *diagnose.Tracker
}

// ensureObserver installs the observer table (netfilter/observer) in the
// lab's router.
func ensureObserver(t *testing.T, l *lab.Lab) observer.Table {
	t.Helper()
	o := observer.Table{NetNS: l.Router.Fd()}
	if err := o.Ensure([]string{lab.LANDevice}); err != nil {
		t.Fatal(err)
	}
	return o
}

func newE2E(t *testing.T, cfg lab.Config) *e2e {
	t.Helper()
	l := lab.New(t, cfg)
	e := &e2e{l: l, obs: ensureObserver(t, l)}
	_, e.events = watching(t, l, conntrack.WatchConfig{}, 1024)
	e.tr = diagnose.NewTracker(diagnose.Classifier{LAN: []netip.Prefix{lab.LANPrefix}, Local: []netip.Addr{lab.RouterLAN, l.RouterWAN.Addr()}})
	next(t, e.events, 5*time.Second, "initial sync", func(ev conntrack.Event) bool { e.tr.Apply(ev); return isSyncDone(ev) })
	e.observe(t)
	return e
}

// wait feeds events to the tracker until one matches.
func (e *e2e) wait(t *testing.T, what string, timeout time.Duration, pred func(conntrack.Event) bool) {
	t.Helper()
	next(t, e.events, timeout, what, func(ev conntrack.Event) bool { e.tr.Apply(ev); return pred(ev) })
}

// drain feeds whatever events are pending.
func (e *e2e) drain() {
	for {
		select {
		case ev := <-e.events:
			e.tr.Apply(ev)
		case <-time.After(100 * time.Millisecond):
			return
		}
	}
}

func (e *e2e) observe(t *testing.T) {
	t.Helper()
	entries, err := e.obs.Read()
	if err != nil {
		t.Fatal(err)
	}
	e.tr.Observe(entries, time.Now())
}

// judge judges as if the session had been quiet for QuietAfter.
func (e *e2e) judge(t *testing.T, ctx diagnose.Context) []diagnose.Finding {
	t.Helper()
	e.drain()
	e.observe(t)
	ctx.Now = time.Now().Add(diagnose.QuietAfter + time.Second)
	ctx.RouterNATs, ctx.Observing = true, true
	return e.tr.Judge(ctx)
}

func wantCodes(t *testing.T, got []diagnose.Finding, want ...diagnose.Code) {
	t.Helper()
	var codes []diagnose.Code
	for _, f := range got {
		codes = append(codes, f.Code)
	}
	if len(codes) != len(want) {
		t.Fatalf("findings %v, want %v (%+v)", codes, want, got)
	}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("findings %v, want %v (%+v)", codes, want, got)
		}
	}
}

// dropBeyond drops a footprint in the inet namespace: "something between
// this router and the server".
func dropBeyond(t *testing.T, l *lab.Lab, match string) {
	t.Helper()
	if out, err := l.Inet.Run("nft", "add table inet beyond; add chain inet beyond in { type filter hook input priority 0; "+match+" drop; }"); err != nil {
		t.Fatalf("drop %q beyond the router: %v: %s", match, err, out)
	}
}

// TestStrongSwanThroughNAT: a real IKEv2 client behind the router's NAT
// reaches a real responder; IKE floats from UDP 500 to 4500, the CHILD_SA
// carries pings as ESP in UDP, and the session is judged vpn-ok.
func TestStrongSwanThroughNAT(t *testing.T) {
	swan.Require(t)
	e := newE2E(t, lab.Config{})
	swan.Start(t, e.l.Inet, swan.Config{Role: swan.Responder})
	cli := swan.Start(t, e.l.LAN, swan.Config{Role: swan.Initiator})
	if err := cli.Initiate(10 * time.Second); err != nil {
		t.Fatalf("initiate: %v", err)
	}
	for i := 0; i < 3; i++ {
		if err := lab.Ping(e.l.LAN, lab.Server2, 2*time.Second); err != nil {
			t.Fatalf("ping through the tunnel: %v", err)
		}
	}
	e.wait(t, "NAT-T answered", 5*time.Second, func(ev conntrack.Event) bool {
		return ev.Flow.Orig.DstPort == vpn.PortNATT && ev.Flow.Status.SeenReply()
	})
	got := e.judge(t, diagnose.Context{})
	wantCodes(t, got, diagnose.CodeOK)
	for _, s := range e.tr.Sessions() {
		if s.ObservedOf(vpn.ObsESPInUDP, vpn.DirIn) == nil || s.ObservedOf(vpn.ObsIKE4500, vpn.DirOut) == nil {
			t.Errorf("session %v: the observer saw no IKE or ESP on UDP 4500: %+v", s.Key, s.Observed)
		}
	}
	if got[0].Params["natt"] != true {
		t.Errorf("vpn-ok without the NAT-T switch: %+v", got[0].Params)
	}
	golden.JSON(t, "testdata/e2e/strongswan-ok.json", codeLines(got))
}

// TestStrongSwanNATTBlocked: UDP 4500 is dropped beyond the router. IKE is
// answered on 500, the switch to 4500 never is: natt-blocked.
func TestStrongSwanNATTBlocked(t *testing.T) {
	swan.Require(t)
	e := newE2E(t, lab.Config{})
	dropBeyond(t, e.l, "udp dport 4500")
	swan.Start(t, e.l.Inet, swan.Config{Role: swan.Responder})
	cli := swan.Start(t, e.l.LAN, swan.Config{Role: swan.Initiator})
	if err := cli.Initiate(2 * time.Second); err == nil {
		t.Fatal("initiate succeeded although UDP 4500 is dropped")
	}
	e.wait(t, "NAT-T request", 5*time.Second, func(ev conntrack.Event) bool { return ev.Flow.Orig.DstPort == vpn.PortNATT })
	wantCodes(t, e.judge(t, diagnose.Context{}), diagnose.CodeNATTBlocked)
}

// TestStrongSwanAuthFailed: a wrong pre-shared key. The server answers on
// UDP 500 and, after the switch, on 4500, then refuses the login: no ESP
// ever flows, and the diagnosis says ike-auth-failed, not a network block.
func TestStrongSwanAuthFailed(t *testing.T) {
	swan.Require(t)
	e := newE2E(t, lab.Config{})
	swan.Start(t, e.l.Inet, swan.Config{Role: swan.Responder})
	cli := swan.Start(t, e.l.LAN, swan.Config{Role: swan.Initiator, PSK: "wrong-secret"})
	if err := cli.Initiate(5 * time.Second); err == nil {
		t.Fatal("initiate succeeded with a wrong key")
	}
	e.wait(t, "NAT-T answered", 5*time.Second, func(ev conntrack.Event) bool {
		return ev.Flow.Orig.DstPort == vpn.PortNATT && ev.Flow.Status.SeenReply()
	})
	wantCodes(t, e.judge(t, diagnose.Context{}), diagnose.CodeIKEAuthFailed)
}

// codeLines renders findings as "host code" lines: the stable part of an
// end-to-end run (ports and times vary).
func codeLines(fs []diagnose.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Host + " " + f.Peer + " " + string(f.Protocol) + " " + string(f.Code)
	}
	return out
}
