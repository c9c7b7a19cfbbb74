package diagnose

import (
	"net/netip"
	"strings"
	"time"

	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/internal/sortx"
	"github.com/vpnpass/vpnpass/vpn"
)

// Limits that keep the tracker's memory bounded during a conntrack storm.
const (
	DefaultMaxSessions = 1024
	maxFlowsPerSession = 64
	maxInboundPerPeer  = 16
	// Retain is how long an ended session (and its findings) stays after
	// its last judgement; IdleLimit drops sessions nothing happened to.
	Retain    = 10 * time.Minute
	IdleLimit = time.Hour
)

// Tracker groups VPN flows into sessions and judges them. It is not safe for
// concurrent use: one goroutine (the agent's) feeds it events, observer
// snapshots and clock ticks.
type Tracker struct {
	Classifier  Classifier
	MaxSessions int

	sessions map[SessionKey]*Session
	flows    map[flowKey]*Session
	inbound  map[netip.Addr]map[flowKey]*SessionFlow // peer → GRE the peer sent to the router
	obsPrev  map[obsKey]uint64
	obsReady bool
	obsAt    time.Time // when the previous snapshot was taken
	gen      uint64
	syncing  bool
}

// key identifies a flow across events. The kernel's ID is unique while the
// entry lives; the original tuple disambiguates IDs reused later.
type flowKey struct {
	id   uint32
	l4   uint8
	orig conntrack.Tuple
}

func keyOf(f *conntrack.Flow) flowKey { return flowKey{f.ID, f.L4, f.Orig} }

type obsKey struct {
	host, peer netip.Addr
	el         vpn.ObserverElement
	dir        vpn.Direction
}

// NewTracker returns an empty tracker for a router with the given LAN and
// local addresses.
func NewTracker(c Classifier) *Tracker {
	return &Tracker{
		Classifier: c, MaxSessions: DefaultMaxSessions,
		sessions: map[SessionKey]*Session{}, flows: map[flowKey]*Session{},
		inbound: map[netip.Addr]map[flowKey]*SessionFlow{}, obsPrev: map[obsKey]uint64{},
	}
}

// Apply feeds one event. Non-VPN flows are ignored cheaply.
func (t *Tracker) Apply(ev conntrack.Event) {
	switch ev.Type {
	case conntrack.EventSyncDone:
		t.syncDone(ev.Time)
		return
	case conntrack.EventDump:
		if !t.syncing {
			t.syncing = true
			t.gen++
		}
	}
	kind, role := t.Classifier.Classify(ev.Flow)
	switch {
	case kind == vpn.KindNone:
	case role == RoleLAN || role == RoleRouter:
		t.applyFlow(&ev, kind, role)
	case role == RoleInbound && kind == vpn.KindGRE:
		t.applyInbound(&ev, kind, role)
	}
}

func (t *Tracker) applyFlow(ev *conntrack.Event, kind vpn.Kind, role Role) {
	k := keyOf(&ev.Flow)
	s := t.flows[k]
	if s == nil {
		key := SessionKey{Host: ev.Flow.Orig.Src.Unmap(), Peer: ev.Flow.Orig.Dst.Unmap(), Protocol: kind.Protocol()}
		s = t.session(key, role == RoleRouter, &ev.Time)
		if ev.Type != conntrack.EventDestroy {
			t.newAttempt(s, &ev.Time)
		}
		s.Flows = append(s.Flows, newSessionFlow(ev, kind, role))
		t.flows[k] = s
		t.trimFlows(s)
	}
	for _, sf := range s.Flows {
		if keyOf(&sf.Flow) == k {
			t.updateFlow(sf, ev)
		}
	}
	s.update(&ev.Time)
}

func newSessionFlow(ev *conntrack.Event, kind vpn.Kind, role Role) *SessionFlow {
	first := ev.Time
	if st := ev.Flow.Start; !isZero(&st) && before(&st, &first) {
		first = st // the kernel knew it earlier (timestamps on, learned from a dump)
	}
	return &SessionFlow{Flow: ev.Flow, Kind: kind, Role: role, FirstSeen: first}
}

func (t *Tracker) updateFlow(sf *SessionFlow, ev *conntrack.Event) {
	sf.Flow = ev.Flow
	sf.LastSeen = ev.Time
	sf.gen = t.gen
	if ev.Flow.Status.SeenReply() || ev.Flow.CounterReply.Packets > 0 {
		reach(&sf.AnsweredAt, &ev.Time)
	}
	if ev.Flow.Status.Assured() {
		reach(&sf.AssuredAt, &ev.Time)
	}
	if ev.Type == conntrack.EventDestroy {
		reach(&sf.EndedAt, &ev.Time)
	}
	trackOffload(sf, ev)
}

// trackOffload notes when a flow entered a flowtable and when its counters
// first moved both ways after that.
func trackOffload(sf *SessionFlow, ev *conntrack.Event) {
	fl := &ev.Flow
	if !fl.Status.Offloaded() {
		return
	}
	if isZero(&sf.OffloadedAt) {
		sf.OffloadedAt = ev.Time
		sf.offloadBase = [2]uint64{fl.CounterOrig.Packets, fl.CounterReply.Packets}
		return
	}
	if fl.CounterOrig.Packets > sf.offloadBase[0] && fl.CounterReply.Packets > sf.offloadBase[1] {
		reach(&sf.FastBoth, &ev.Time)
	}
}

func (t *Tracker) applyInbound(ev *conntrack.Event, kind vpn.Kind, role Role) {
	peer := ev.Flow.Orig.Src.Unmap()
	m := t.inbound[peer]
	if m == nil {
		m = map[flowKey]*SessionFlow{}
		t.inbound[peer] = m
	}
	sf := m[keyOf(&ev.Flow)]
	if sf == nil {
		if len(m) >= maxInboundPerPeer {
			return
		}
		sf = newSessionFlow(ev, kind, role)
		m[keyOf(&ev.Flow)] = sf
	}
	t.updateFlow(sf, ev)
	for key, s := range t.sessions {
		if key.Peer == peer && key.Protocol == vpn.PPTP {
			s.update(&ev.Time)
		}
	}
}

// session finds or creates the session of key, evicting the least recently
// active one when the tracker is full.
func (t *Tracker) session(key SessionKey, router bool, at *time.Time) *Session {
	if s := t.sessions[key]; s != nil {
		return s
	}
	if max := t.MaxSessions; max > 0 && len(t.sessions) >= max {
		t.evictOldest()
	}
	s := &Session{Key: key, Router: router, FirstSeen: *at, LastSeen: *at}
	t.sessions[key] = s
	return s
}

// newAttempt starts the session afresh when it ended and was judged before
// this new traffic: a reconnect is judged on its own flows, so a later
// failure replaces an earlier vpn-ok (and a later success a failure). The
// earlier findings stay until the new attempt is judged.
func (t *Tracker) newAttempt(s *Session, at *time.Time) {
	if !s.Ended() || s.dirty {
		return
	}
	for _, f := range s.Flows {
		delete(t.flows, keyOf(&f.Flow))
	}
	s.Flows, s.Observed, s.Milestones = nil, nil, Milestones{}
	s.FirstSeen, s.LastSeen = *at, *at
}

func (t *Tracker) evictOldest() {
	var oldest *Session
	for _, s := range t.sessions {
		if oldest == nil || before(&s.LastSeen, &oldest.LastSeen) {
			oldest = s
		}
	}
	if oldest != nil {
		t.remove(oldest)
	}
}

func (t *Tracker) remove(s *Session) {
	for _, f := range s.Flows {
		delete(t.flows, keyOf(&f.Flow))
	}
	delete(t.sessions, s.Key)
}

// trimFlows keeps a session's flow list bounded: ended flows go first.
func (t *Tracker) trimFlows(s *Session) {
	for len(s.Flows) > maxFlowsPerSession {
		drop := 0
		for i, f := range s.Flows {
			if !isZero(&f.EndedAt) {
				drop = i
				break
			}
		}
		delete(t.flows, keyOf(&s.Flows[drop].Flow))
		s.Flows = append(s.Flows[:drop], s.Flows[drop+1:]...)
	}
}

// syncDone ends a dump: every live flow the dump did not confirm (and no
// event touched meanwhile) has gone while vpnpass was not listening.
func (t *Tracker) syncDone(at time.Time) {
	if !t.syncing {
		t.gen++ // an empty dump confirms nothing
	}
	t.syncing = false
	for _, s := range t.sessions {
		changed := false
		for _, f := range s.Flows {
			if isZero(&f.EndedAt) && f.gen != t.gen {
				f.EndedAt = at
				changed = true
			}
		}
		if changed {
			s.update(&at)
		}
	}
	for _, m := range t.inbound {
		for _, f := range m {
			if isZero(&f.EndedAt) && f.gen != t.gen {
				f.EndedAt = at
			}
		}
	}
}

// Observe feeds a snapshot of the observer's counters taken at now. The first
// snapshot is only a baseline: counts older than the tracker prove nothing
// about sessions it can judge.
func (t *Tracker) Observe(entries []vpn.ObserverEntry, now time.Time) {
	next := make(map[obsKey]uint64, len(entries))
	for i := range entries {
		e := &entries[i]
		k := obsKey{e.Host.Unmap(), e.Peer.Unmap(), e.Element, e.Direction}
		next[k] = e.Packets
		prev, known := t.obsPrev[k]
		grew := (!known && t.obsReady) || (known && e.Packets != prev)
		if grew && e.Packets > 0 {
			t.observed(&k, e, &now)
		}
	}
	t.obsPrev, t.obsReady, t.obsAt = next, true, now
}

func (t *Tracker) observed(k *obsKey, e *vpn.ObserverEntry, now *time.Time) {
	role := t.Classifier.role(k.host, k.peer)
	if role != RoleLAN && role != RoleRouter {
		return
	}
	s := t.session(SessionKey{k.host, k.peer, e.Element.Kind().Protocol()}, role == RoleRouter, now)
	t.newAttempt(s, now)
	o := s.ObservedOf(e.Element, e.Direction)
	if o == nil {
		o = &ObservedCount{Element: e.Element, Direction: e.Direction, FirstSeen: *now}
		s.Observed = append(s.Observed, o)
	}
	o.Packets, o.Bytes, o.LastSeen, o.GrewAfter = e.Packets, e.Bytes, *now, t.obsAt
	s.update(now)
}

// Judge judges every session that is due at ctx.Now and returns the findings
// of those whose codes changed since their previous judgement (the agent
// records them as vpn.finding events). A live session that changed is
// judged too, and its judgement kept only when it says the VPN works: a
// working VPN is never quiet, and failures wait for quiet or the end as
// before (docs/design.md#the-doctor).
func (t *Tracker) Judge(ctx Context) []Finding {
	t.fillContext(&ctx)
	var out []Finding
	for _, s := range t.sortedSessions() {
		var fs []Finding
		switch {
		case s.Due(ctx.Now):
			t.attachInbound(s)
			fs = diagnose(s, &ctx)
			s.dirty, s.judged, s.judgedAt = false, true, ctx.Now
		case s.liveDue(ctx.Now):
			t.attachInbound(s)
			s.liveSeen = s.version
			if fs = diagnose(s, &ctx); !worksLive(s, fs, &ctx) {
				continue
			}
		default:
			continue
		}
		s.findings, s.liveSeen = fs, s.version
		if codes := codesOf(fs); codes != s.codes {
			s.codes, s.lastChange = codes, ctx.Now
			out = append(out, fs...)
		}
	}
	return out
}

// worksLive reports whether a live judgement may stand: the session works
// by the same rules its full judgement applies, and nothing a full
// judgement adds later can turn it into a failure (plain L2TP that never
// carried data becomes l2tp-without-ipsec once quiet).
func worksLive(s *Session, fs []Finding, ctx *Context) bool {
	if len(fs) != 1 || fs[0].Code != CodeOK {
		return false
	}
	if s.Key.Protocol == vpn.L2TP {
		return !isZero(&s.DataAnswered) || ctx.IPsecPairs[[2]netip.Addr{s.Key.Host, s.Key.Peer}]
	}
	return true
}

// Pending reports whether some live session's server has answered but the
// session is not said to work yet: the agent then judges more often, so
// that vpn-ok follows the first answered exchange within seconds.
func (t *Tracker) Pending(now time.Time) bool {
	for _, s := range t.sessions {
		if s.codes != string(CodeOK) && !isZero(&s.ControlAnswered) && !s.QuietOrEnded(now) {
			return true
		}
	}
	return false
}

// FastPathFlows returns the live flows that sit in a flowtable: the agent
// reads them again (conntrack.Refresh) because their packets produce no
// events.
func (t *Tracker) FastPathFlows() []conntrack.Flow {
	var out []conntrack.Flow
	for _, s := range t.sortedSessions() {
		for _, f := range s.Flows {
			if f.FastPath() {
				out = append(out, f.Flow)
			}
		}
	}
	return out
}

// Refresh feeds the current state of flows read again at now: a flow whose
// status or counters moved counts as an update of its session.
func (t *Tracker) Refresh(flows []conntrack.Flow, now time.Time) {
	for _, fl := range flows {
		s := t.flows[keyOf(&fl)]
		if s == nil {
			continue
		}
		for _, sf := range s.Flows {
			old := &sf.Flow
			if keyOf(old) != keyOf(&fl) || (old.Status == fl.Status && old.CounterOrig == fl.CounterOrig && old.CounterReply == fl.CounterReply) {
				continue
			}
			t.updateFlow(sf, &conntrack.Event{Type: conntrack.EventUpdate, Flow: fl, Time: now})
			s.update(&now)
		}
	}
}

// Findings returns the latest judgement of every session.
func (t *Tracker) Findings() []Finding {
	var out []Finding
	for _, s := range t.sortedSessions() {
		out = append(out, s.findings...)
	}
	return out
}

// Sessions returns the tracked sessions, oldest first. The pointers are the
// tracker's own: read them on the tracker's goroutine only.
func (t *Tracker) Sessions() []*Session { return t.sortedSessions() }

// Idle says whether the tracker has no session at all.
func (t *Tracker) Idle() bool { return len(t.sessions) == 0 }

// Expire forgets sessions that ended and were judged more than Retain ago,
// or saw nothing for IdleLimit, and inbound flows that ended long ago.
func (t *Tracker) Expire(now time.Time) {
	for _, s := range t.sessions {
		ended := s.Ended() && s.judged && !s.dirty && sub(&now, &s.judgedAt) >= Retain
		if ended || sub(&now, &s.LastSeen) >= IdleLimit {
			t.remove(s)
		}
	}
	for peer, m := range t.inbound {
		for k, f := range m {
			if !isZero(&f.EndedAt) && sub(&now, &f.EndedAt) >= Retain {
				delete(m, k)
			}
		}
		if len(m) == 0 {
			delete(t.inbound, peer)
		}
	}
}

func (t *Tracker) attachInbound(s *Session) {
	s.Inbound = s.Inbound[:0]
	if s.Key.Protocol != vpn.PPTP {
		return
	}
	for _, f := range t.inbound[s.Key.Peer] {
		s.Inbound = append(s.Inbound, f)
	}
	sortx.Sort(len(s.Inbound), func(i, j int) bool { return before(&s.Inbound[i].FirstSeen, &s.Inbound[j].FirstSeen) }, func(i, j int) { s.Inbound[i], s.Inbound[j] = s.Inbound[j], s.Inbound[i] })
}

// fillContext adds the cross-session facts: which hosts send raw ESP to
// which server, and which (host, server) pairs speak IPsec.
func (t *Tracker) fillContext(ctx *Context) {
	if ctx.ESPClients == nil {
		ctx.ESPClients = map[netip.Addr][]ESPClient{}
		for _, s := range t.sortedSessions() {
			if c, ok := espClient(s); ok {
				ctx.ESPClients[s.Key.Peer] = append(ctx.ESPClients[s.Key.Peer], c)
			}
		}
	}
	if ctx.IPsecPairs == nil {
		ctx.IPsecPairs = map[[2]netip.Addr]bool{}
		for k := range t.sessions {
			if k.Protocol == vpn.IPsec {
				ctx.IPsecPairs[[2]netip.Addr{k.Host, k.Peer}] = true
			}
		}
	}
}

// espClient describes a LAN session's raw ESP: from its conntrack flows, or
// from the observer alone when the kernel confirmed none (a NAT clash or a
// filter drop, which the diagnosis tells apart).
func espClient(s *Session) (none ESPClient, _ bool) {
	if s.Router {
		return none, false
	}
	if esp := s.FlowsOf(vpn.KindESP); len(esp) > 0 {
		c := ESPClient{Host: s.Key.Host, Answered: anyAnswered(esp), Confirmed: true}
		for _, f := range esp {
			c.NATed = c.NATed || f.Flow.SrcNATed()
		}
		return c, true
	}
	if o := s.ObservedOf(vpn.ObsESP, vpn.DirOut); o != nil && o.Packets > 0 {
		return ESPClient{Host: s.Key.Host, Answered: s.ObservedOf(vpn.ObsESP, vpn.DirIn) != nil}, true
	}
	return none, false
}

func (t *Tracker) sortedSessions() []*Session {
	out := make([]*Session, 0, len(t.sessions))
	for _, s := range t.sessions {
		out = append(out, s)
	}
	sortx.Sort(len(out), func(i, j int) bool {
		if a, b := &out[i].FirstSeen, &out[j].FirstSeen; before(a, b) || before(b, a) {
			return before(a, b)
		}
		a, b := out[i].Key, out[j].Key
		return a.Host.String()+a.Peer.String()+string(a.Protocol) < b.Host.String()+b.Peer.String()+string(b.Protocol)
	}, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func codesOf(fs []Finding) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = string(f.Code)
	}
	return strings.Join(parts, ",")
}
