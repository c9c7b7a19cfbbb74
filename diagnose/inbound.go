package diagnose

import (
	"net/netip"
	"time"

	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/internal/sortx"
	"github.com/vpnpass/vpnpass/vpn"
)

// Inbound: VPN clients on the WAN connecting to a server on the LAN (or
// trying to). The evidence is the conntrack entries the clients' packets
// create (orig: client → the router's WAN address; reply from the LAN host
// a port forward chose, or from the router itself when nothing forwarded
// them) and the observer's counts of packets reaching the router's own
// input (vpn.DirWAN), which also counts the ones its firewall drops before
// conntrack confirms an entry.

// Codes of inbound findings (docs/interface.md#doctor); same tier as the
// "blocked beyond this router" group.
const (
	CodeInboundNotForwarded    Code = "inbound-not-forwarded"
	CodeInboundBehindDoubleNAT Code = "inbound-behind-double-nat"
)

// Limits of the inbound tracker's memory.
const (
	maxInboundAttempts = 256
	// InboundAnswerWait is how long an attempt may go unanswered before it
	// counts as never answered (INTERFACE.md: 10 s).
	InboundAnswerWait = 10 * time.Second
)

// InboundAttempt is what one client sent toward one target (the router's
// WAN address) on one footprint part.
type InboundAttempt struct {
	_      incomparable
	Client netip.Addr
	Target netip.Addr // the address the client sent to
	// Server is the LAN host a port forward sent the attempt to; invalid
	// when the router kept it.
	Server    netip.Addr
	Kind      vpn.Kind
	Port      uint16
	FirstSeen time.Time
	LastSeen  time.Time
	// AnsweredAt is when a reply was first seen (zero: never).
	AnsweredAt time.Time
	Packets    uint64
	flow       bool // seen in conntrack (else the observer alone)
}

type attemptKey struct {
	client, target netip.Addr
	kind           vpn.Kind
}

// InboundTracker follows inbound attempts. Like Tracker it is fed by one
// goroutine.
type InboundTracker struct {
	Classifier Classifier
	attempts   map[attemptKey]*InboundAttempt
	obsPrev    map[attemptKey]uint64
	obsReady   bool
}

// NewInboundTracker returns an empty tracker.
func NewInboundTracker(c Classifier) *InboundTracker {
	return &InboundTracker{Classifier: c, attempts: map[attemptKey]*InboundAttempt{}, obsPrev: map[attemptKey]uint64{}}
}

// Apply feeds one conntrack event; flows not from the WAN are ignored.
func (t *InboundTracker) Apply(ev conntrack.Event) {
	kind, role := t.Classifier.Classify(ev.Flow)
	if kind == vpn.KindNone || role != RoleInbound || ev.Flow.Status.Expected() {
		return // an expected GRE belongs to a PPTP call already counted
	}
	f := &ev.Flow
	a := t.attempt(attemptKey{f.Orig.Src.Unmap(), f.Orig.Dst.Unmap(), kind}, &ev.Time)
	if a == nil {
		return
	}
	a.flow, a.Port, a.LastSeen = true, f.Orig.DstPort, ev.Time
	if src := f.Reply.Src.Unmap(); src.IsValid() && src != a.Target && t.Classifier.inLAN(src) {
		a.Server = src
	}
	if f.Status.SeenReply() || f.CounterReply.Packets > 0 {
		reach(&a.AnsweredAt, &ev.Time)
	}
	if f.CounterOrig.Packets > a.Packets {
		a.Packets = f.CounterOrig.Packets
	}
}

// ObserveWAN feeds the observer's inbound counts (vpn.DirWAN entries; the
// others are ignored). The first snapshot is a baseline, as in Observe.
func (t *InboundTracker) ObserveWAN(entries []vpn.ObserverEntry, now time.Time) {
	next := map[attemptKey]uint64{}
	for _, e := range entries {
		if e.Direction != vpn.DirWAN {
			continue
		}
		k := attemptKey{e.Peer.Unmap(), e.Host.Unmap(), e.Element.Kind()}
		next[k] += e.Packets
	}
	for k, n := range next {
		prev, known := t.obsPrev[k]
		if n == 0 || (known && n == prev) || (!known && !t.obsReady) {
			continue
		}
		if a := t.attempt(k, &now); a != nil {
			a.LastSeen = now
			if n > a.Packets {
				a.Packets = n
			}
		}
	}
	t.obsPrev, t.obsReady = next, true
}

func (t *InboundTracker) attempt(k attemptKey, at *time.Time) *InboundAttempt {
	if a := t.attempts[k]; a != nil {
		return a
	}
	if len(t.attempts) >= maxInboundAttempts {
		t.evictOldest()
	}
	a := &InboundAttempt{Client: k.client, Target: k.target, Kind: k.kind, FirstSeen: *at, LastSeen: *at}
	t.attempts[k] = a
	return a
}

func (t *InboundTracker) evictOldest() {
	var oldest attemptKey
	var at time.Time
	for k, a := range t.attempts {
		if isZero(&at) || before(&a.LastSeen, &at) {
			oldest, at = k, a.LastSeen
		}
	}
	delete(t.attempts, oldest)
}

// Expire forgets attempts quiet for Retain.
func (t *InboundTracker) Expire(now time.Time) {
	for k, a := range t.attempts {
		if sub(&now, &a.LastSeen) >= Retain {
			delete(t.attempts, k)
		}
	}
}

// Attempts returns the attempts, oldest first.
func (t *InboundTracker) Attempts() []*InboundAttempt {
	out := make([]*InboundAttempt, 0, len(t.attempts))
	for _, a := range t.attempts {
		out = append(out, a)
	}
	sortx.Sort(len(out), func(i, j int) bool {
		if a, b := &out[i].FirstSeen, &out[j].FirstSeen; before(a, b) || before(b, a) {
			return before(a, b)
		}
		return out[i].Client.Less(out[j].Client) || out[i].Client == out[j].Client && out[i].Kind < out[j].Kind
	}, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// Servers returns the LAN hosts port forwards sent attempts to, with the
// protocols of those attempts: the servers "seen" for status.inbound.
func (t *InboundTracker) Servers() map[netip.Addr][]vpn.Protocol {
	out := map[netip.Addr][]vpn.Protocol{}
	for _, a := range t.Attempts() {
		if !a.Server.IsValid() {
			continue
		}
		for _, p := range vpn.InboundProtocolsOf(protoL4(a.Kind), a.Port) {
			if !containsProto(out[a.Server], p) {
				out[a.Server] = append(out[a.Server], p)
			}
		}
	}
	return out
}

func protoL4(k vpn.Kind) uint8 {
	switch k {
	case vpn.KindPPTP:
		return vpn.ProtoTCP
	case vpn.KindGRE:
		return vpn.ProtoGRE
	case vpn.KindESP:
		return vpn.ProtoESP
	case vpn.KindAH:
		return vpn.ProtoAH
	}
	return vpn.ProtoUDP
}

func containsProto(ps []vpn.Protocol, p vpn.Protocol) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// WithoutInbound drops the observer counts of inbound connections: a LAN
// server's answers to a client on the WAN cross the forward hook like a
// LAN host's requests, and the client's packets like a server's answers;
// counted as an outbound session they would look like a filter drop. nil
// stays nil (not observing).
func (t *InboundTracker) WithoutInbound(entries []vpn.ObserverEntry) []vpn.ObserverEntry {
	if entries == nil || len(t.attempts) == 0 {
		return entries
	}
	pairs := map[[2]netip.Addr]bool{}
	for _, a := range t.attempts {
		if a.Server.IsValid() {
			pairs[[2]netip.Addr{a.Server, a.Client}] = true
		}
	}
	out := make([]vpn.ObserverEntry, 0, len(entries))
	for _, e := range entries {
		if !pairs[[2]netip.Addr{e.Host.Unmap(), e.Peer.Unmap()}] {
			out = append(out, e)
		}
	}
	return out
}
