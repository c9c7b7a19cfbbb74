package diagnose

import (
	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"
	"time"
)

// Timing rules (docs/design.md#the-doctor): a session is judged once it has been quiet
// for QuietAfter or has ended; a request is "never answered" when no reply
// came within AnswerWithin of the first request.
const (
	QuietAfter   = 30 * time.Second
	AnswerWithin = 10 * time.Second
)

// SessionKey identifies a session: one LAN host (or the router itself) talking
// one VPN protocol to one server.
type SessionKey struct {
	Host     netip.Addr
	Peer     netip.Addr
	Protocol vpn.Protocol
}

// Phase is how far a session got, in the order a VPN connection progresses.
type Phase uint8

// Phases. Control is IKE (UDP 500, or 4500 when a client starts there), TCP
// 1723, UDP 1701, OpenVPN or WireGuard's port; the NAT-T switch is IKE moving
// to UDP 4500; data is ESP, ESP in UDP 4500 or GRE, or for single-flow
// protocols the control flow carrying traffic both ways for a while.
const (
	PhaseNone Phase = iota
	PhaseControlSeen
	PhaseControlAnswered
	PhaseNATTSeen
	PhaseDataSeen
	PhaseDataAnswered
	PhaseEnded
)

var phaseNames = [...]string{"none", "control-seen", "control-answered", "natt-seen", "data-seen", "data-answered", "ended"}

func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "unknown"
}

// Milestones records when a session first reached each phase. Once set, a
// milestone never moves: the state machine only goes forward. A session that
// ended before data keeps DataAnswered zero, which is what the diagnosis asks.
type Milestones struct {
	ControlSeen     time.Time
	ControlAnswered time.Time
	NATTSeen        time.Time
	DataSeen        time.Time
	DataAnswered    time.Time
	Ended           time.Time
}

// Phase returns the furthest phase reached.
func (m Milestones) Phase() Phase {
	marks := []time.Time{m.ControlSeen, m.ControlAnswered, m.NATTSeen, m.DataSeen, m.DataAnswered, m.Ended}
	p := PhaseNone
	for i, t := range marks {
		if !isZero(&t) {
			p = Phase(i + 1)
		}
	}
	return p
}

// reach sets a milestone the first time. (Both through pointers: see isZero.)
func reach(m, at *time.Time) {
	if isZero(m) && !isZero(at) {
		*m = *at
	}
}

// SessionFlow is one conntrack flow of a session with the times vpnpass saw
// it change.
type SessionFlow struct {
	_          incomparable
	Flow       conntrack.Flow
	Kind       vpn.Kind
	Role       Role
	FirstSeen  time.Time // first event (or the kernel's start timestamp)
	LastSeen   time.Time // last event
	AnsweredAt time.Time // first event showing a reply; zero if never
	AssuredAt  time.Time // first event showing ASSURED; zero if never
	EndedAt    time.Time // DESTROY (or gone from a resync dump); zero while alive
	// OffloadedAt is when the flow was first seen in a flowtable; FastBoth
	// when its counters first showed packets both ways after that (the
	// fast path carried traffic each way: conntrack counts it only through
	// the flowtable's counter flag). offloadBase holds the counters then.
	OffloadedAt time.Time
	FastBoth    time.Time
	offloadBase [2]uint64
	gen         uint64 // resync generation that last confirmed the flow
}

// Answered reports whether a reply was ever seen.
func (f *SessionFlow) Answered() bool { return !isZero(&f.AnsweredAt) }

// Unanswered reports whether the flow has waited for a reply longer than
// AnswerWithin at now and none came. An offloaded flow is never
// unanswered: a reply on the fast path bypasses conntrack, so "no reply
// seen" proves nothing once the flow sits in a flowtable.
func (f *SessionFlow) Unanswered(now time.Time) bool {
	return isZero(&f.AnsweredAt) && isZero(&f.OffloadedAt) && sub(&now, &f.FirstSeen) >= AnswerWithin
}

// FastPath reports whether the flow is alive and, at its last reading, in a
// flowtable: its packets then reach neither the observer nor conntrack's
// events, so silence says nothing about it.
func (f *SessionFlow) FastPath() bool {
	return isZero(&f.EndedAt) && f.Flow.Status.Offloaded()
}

// FastBlind reports whether the flow went through a flowtable whose traffic
// the entry cannot show: no counters (accounting off, or a flowtable
// without the counter flag) or a hardware flowtable, whose NIC may report
// no statistics at all.
func (f *SessionFlow) FastBlind() bool {
	return !isZero(&f.OffloadedAt) && isZero(&f.FastBoth) &&
		(!f.Flow.Counted || f.Flow.Status&conntrack.StatusHWOffload != 0)
}

// ObservedCount is what the observer counted for one element and direction
// of a session, and when the count last grew.
type ObservedCount struct {
	_         incomparable
	Element   vpn.ObserverElement
	Direction vpn.Direction
	Packets   uint64
	Bytes     uint64
	FirstSeen time.Time // first growth seen by the tracker
	LastSeen  time.Time // last growth
	// GrewAfter is the previous snapshot's time: the last growth happened
	// after it (and by LastSeen), so only growth with GrewAfter past a
	// flow's end surely came after that end.
	GrewAfter time.Time
}

// Session is what the tracker knows about one SessionKey.
type Session struct {
	Key       SessionKey
	Router    bool // the router's own connection (Host is one of its addresses)
	FirstSeen time.Time
	LastSeen  time.Time
	Milestones
	Flows    []*SessionFlow // LAN or router flows of the protocol, in arrival order
	Inbound  []*SessionFlow // flows from the peer to the router (PPTP GRE without helper)
	Observed []*ObservedCount

	judged     bool
	judgedAt   time.Time
	dirty      bool   // changed since the last full judgement
	version    uint64 // grows with every change
	liveSeen   uint64 // version at the last live judgement
	findings   []Finding
	codes      string // the codes of findings, to tell a changed judgement
	lastChange time.Time
}

// Ended reports whether every flow of the session is gone and the observer
// saw nothing since.
func (s *Session) Ended() bool { return !isZero(&s.Milestones.Ended) }

// FlowsOf returns the session's flows of one kind.
func (s *Session) FlowsOf(k vpn.Kind) []*SessionFlow {
	var out []*SessionFlow
	for _, f := range s.Flows {
		if f.Kind == k {
			out = append(out, f)
		}
	}
	return out
}

// Observed returns the observer's count of one element and direction, or nil.
func (s *Session) ObservedOf(e vpn.ObserverElement, d vpn.Direction) *ObservedCount {
	for _, o := range s.Observed {
		if o.Element == e && o.Direction == d {
			return o
		}
	}
	return nil
}

// Due reports whether the session should be judged at now: it changed since
// the last judgement and is either ended or quiet for QuietAfter.
func (s *Session) Due(now time.Time) bool {
	return s.dirty && s.QuietOrEnded(now)
}

// QuietOrEnded reports whether the session ended, or has been quiet for
// QuietAfter with none of its flows on a flowtable's fast path (an
// offloaded flow is silent to vpnpass while it carries traffic: it is
// judged when it ends).
func (s *Session) QuietOrEnded(now time.Time) bool {
	if s.Ended() {
		return true
	}
	if sub(&now, &s.LastSeen) < QuietAfter {
		return false
	}
	for _, f := range s.Flows {
		if f.FastPath() {
			return false
		}
	}
	return true
}

// liveDue reports whether the session is live (neither ended nor quiet)
// and changed since its last live judgement: a working session is said to
// work while it runs.
func (s *Session) liveDue(now time.Time) bool {
	return s.version != s.liveSeen && !s.QuietOrEnded(now)
}

// update recomputes the milestones after a change at time at. It is the
// session's state machine: flows feed it, milestones only move forward.
func (s *Session) update(at *time.Time) {
	s.dirty = true
	s.version++
	if before(&s.LastSeen, at) {
		s.LastSeen = *at
	}
	for _, f := range s.Flows {
		s.advance(f)
	}
	for _, o := range s.Observed {
		s.advanceObserved(o)
	}
	s.Milestones.Ended = time.Time{}
	if end := s.endTime(); !isZero(&end) {
		s.Milestones.Ended = end
	}
}

func (s *Session) advance(f *SessionFlow) {
	switch {
	case isControl(s.Key.Protocol, f.Kind):
		reach(&s.ControlSeen, &f.FirstSeen)
		reach(&s.ControlAnswered, &f.AnsweredAt)
		if f.Kind == vpn.KindNATT {
			reach(&s.NATTSeen, &f.FirstSeen)
		}
		if s.Key.Protocol.SingleFlow() || f.Kind == vpn.KindNATT {
			// The flow itself carries the data: traffic both ways for a
			// while (ASSURED) is the best conntrack can tell without counters.
			reach(&s.DataSeen, &f.AssuredAt)
			reach(&s.DataAnswered, &f.AssuredAt)
		}
	default: // ESP, AH, GRE
		reach(&s.DataSeen, &f.FirstSeen)
		reach(&s.DataAnswered, &f.AnsweredAt)
	}
	if f.Kind == vpn.KindNATT {
		// Offloaded ESP in UDP never reaches the observer: counters
		// moving both ways on the fast path are the data's answer.
		reach(&s.DataSeen, &f.FastBoth)
		reach(&s.DataAnswered, &f.FastBoth)
	}
}

func (s *Session) advanceObserved(o *ObservedCount) {
	switch o.Element {
	case vpn.ObsESPInUDP:
		reach(&s.NATTSeen, &o.FirstSeen)
		if o.Direction == vpn.DirOut {
			reach(&s.DataSeen, &o.FirstSeen)
		} else {
			reach(&s.DataAnswered, &o.FirstSeen)
		}
	case vpn.ObsESP, vpn.ObsAH, vpn.ObsGRE:
		if o.Direction == vpn.DirOut {
			reach(&s.DataSeen, &o.FirstSeen)
		}
	case vpn.ObsIKE4500:
		reach(&s.NATTSeen, &o.FirstSeen)
	}
	if o.Direction == vpn.DirOut && o.Element.Kind().Protocol() == s.Key.Protocol {
		reach(&s.ControlSeen, &o.FirstSeen)
	}
}

// endTime is when the last flow ended, if every flow has ended and the
// observer saw nothing after that; zero otherwise. Packets counted by the
// first snapshot after the end may have passed before it: they do not
// reopen the session.
func (s *Session) endTime() (none time.Time) {
	if len(s.Flows) == 0 {
		return none
	}
	var end time.Time
	for _, f := range s.Flows {
		if isZero(&f.EndedAt) {
			return none
		}
		if before(&end, &f.EndedAt) {
			end = f.EndedAt
		}
	}
	for _, o := range s.Observed {
		if !before(&o.GrewAfter, &end) {
			return none
		}
	}
	return end
}

// isControl reports whether a kind is the protocol's control channel.
func isControl(p vpn.Protocol, k vpn.Kind) bool { return k.Control() && k.Protocol() == p }

// isZero is t.IsZero() through a pointer: mips passes arguments on the
// stack, and each call with a time.Time value copies it twice (~80 bytes
// of code per call site).
func isZero(t *time.Time) bool { return t.IsZero() }

// before and sub are a.Before(b) and a.Sub(b) through pointers, likewise.
func before(a, b *time.Time) bool       { return a.Before(*b) }
func sub(a, b *time.Time) time.Duration { return a.Sub(*b) }
