package diagnose

import (
	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"
	"sort"
	"strings"
	"time"
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

func keyOf(f conntrack.Flow) flowKey { return flowKey{f.ID, f.L4, f.Orig} }

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
		t.applyFlow(ev, kind, role)
	case role == RoleInbound && kind == vpn.KindGRE:
		t.applyInbound(ev, kind, role)
	}
}

func (t *Tracker) applyFlow(ev conntrack.Event, kind vpn.Kind, role Role) {
	k := keyOf(ev.Flow)
	s := t.flows[k]
	if s == nil {
		key := SessionKey{Host: ev.Flow.Orig.Src.Unmap(), Peer: ev.Flow.Orig.Dst.Unmap(), Protocol: kind.Protocol()}
		s = t.session(key, role == RoleRouter, ev.Time)
		s.Flows = append(s.Flows, newSessionFlow(ev, kind, role))
		t.flows[k] = s
		t.trimFlows(s)
	}
	for _, sf := range s.Flows {
		if keyOf(sf.Flow) == k {
			t.updateFlow(sf, ev)
		}
	}
	s.update(ev.Time)
}

func newSessionFlow(ev conntrack.Event, kind vpn.Kind, role Role) *SessionFlow {
	first := ev.Time
	if st := ev.Flow.Start; !st.IsZero() && st.Before(first) {
		first = st // the kernel knew it earlier (timestamps on, learned from a dump)
	}
	return &SessionFlow{Flow: ev.Flow, Kind: kind, Role: role, FirstSeen: first}
}

func (t *Tracker) updateFlow(sf *SessionFlow, ev conntrack.Event) {
	sf.Flow = ev.Flow
	sf.LastSeen = ev.Time
	sf.gen = t.gen
	if ev.Flow.Status.SeenReply() || ev.Flow.CounterReply.Packets > 0 {
		reach(&sf.AnsweredAt, ev.Time)
	}
	if ev.Flow.Status.Assured() {
		reach(&sf.AssuredAt, ev.Time)
	}
	if ev.Type == conntrack.EventDestroy {
		reach(&sf.EndedAt, ev.Time)
	}
}

func (t *Tracker) applyInbound(ev conntrack.Event, kind vpn.Kind, role Role) {
	peer := ev.Flow.Orig.Src.Unmap()
	m := t.inbound[peer]
	if m == nil {
		m = map[flowKey]*SessionFlow{}
		t.inbound[peer] = m
	}
	sf := m[keyOf(ev.Flow)]
	if sf == nil {
		if len(m) >= maxInboundPerPeer {
			return
		}
		sf = newSessionFlow(ev, kind, role)
		m[keyOf(ev.Flow)] = sf
	}
	t.updateFlow(sf, ev)
	for key, s := range t.sessions {
		if key.Peer == peer && key.Protocol == vpn.PPTP {
			s.update(ev.Time)
		}
	}
}

// session finds or creates the session of key, evicting the least recently
// active one when the tracker is full.
func (t *Tracker) session(key SessionKey, router bool, at time.Time) *Session {
	if s := t.sessions[key]; s != nil {
		return s
	}
	if max := t.MaxSessions; max > 0 && len(t.sessions) >= max {
		t.evictOldest()
	}
	s := &Session{Key: key, Router: router, FirstSeen: at, LastSeen: at}
	t.sessions[key] = s
	return s
}

func (t *Tracker) evictOldest() {
	var oldest *Session
	for _, s := range t.sessions {
		if oldest == nil || s.LastSeen.Before(oldest.LastSeen) {
			oldest = s
		}
	}
	if oldest != nil {
		t.remove(oldest)
	}
}

func (t *Tracker) remove(s *Session) {
	for _, f := range s.Flows {
		delete(t.flows, keyOf(f.Flow))
	}
	delete(t.sessions, s.Key)
}

// trimFlows keeps a session's flow list bounded: ended flows go first.
func (t *Tracker) trimFlows(s *Session) {
	for len(s.Flows) > maxFlowsPerSession {
		drop := 0
		for i, f := range s.Flows {
			if !f.EndedAt.IsZero() {
				drop = i
				break
			}
		}
		delete(t.flows, keyOf(s.Flows[drop].Flow))
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
			if f.EndedAt.IsZero() && f.gen != t.gen {
				f.EndedAt = at
				changed = true
			}
		}
		if changed {
			s.update(at)
		}
	}
	for _, m := range t.inbound {
		for _, f := range m {
			if f.EndedAt.IsZero() && f.gen != t.gen {
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
	for _, e := range entries {
		k := obsKey{e.Host.Unmap(), e.Peer.Unmap(), e.Element, e.Direction}
		next[k] = e.Packets
		prev, known := t.obsPrev[k]
		grew := (!known && t.obsReady) || (known && e.Packets != prev)
		if grew && e.Packets > 0 {
			t.observed(k, e, now)
		}
	}
	t.obsPrev = next
	t.obsReady = true
}

func (t *Tracker) observed(k obsKey, e vpn.ObserverEntry, now time.Time) {
	role := t.Classifier.role(k.host, k.peer)
	if role != RoleLAN && role != RoleRouter {
		return
	}
	s := t.session(SessionKey{k.host, k.peer, e.Element.Kind().Protocol()}, role == RoleRouter, now)
	o := s.ObservedOf(e.Element, e.Direction)
	if o == nil {
		o = &ObservedCount{Element: e.Element, Direction: e.Direction, FirstSeen: now}
		s.Observed = append(s.Observed, o)
	}
	o.Packets, o.Bytes, o.LastSeen = e.Packets, e.Bytes, now
	s.update(now)
}

// Judge judges every session that is due at ctx.Now and returns the findings
// of those whose codes changed since their previous judgement (the agent
// records them as vpn.finding events).
func (t *Tracker) Judge(ctx Context) []Finding {
	t.fillContext(&ctx)
	var out []Finding
	for _, s := range t.sortedSessions() {
		if !s.Due(ctx.Now) {
			continue
		}
		t.attachInbound(s)
		fs := Diagnose(s, ctx)
		codes := codesOf(fs)
		s.findings, s.dirty, s.judged, s.judgedAt = fs, false, true, ctx.Now
		if codes != s.codes {
			s.codes, s.lastChange = codes, ctx.Now
			out = append(out, fs...)
		}
	}
	return out
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

// Expire forgets sessions that ended and were judged more than Retain ago,
// or saw nothing for IdleLimit, and inbound flows that ended long ago.
func (t *Tracker) Expire(now time.Time) {
	for _, s := range t.sessions {
		ended := s.Ended() && s.judged && !s.dirty && now.Sub(s.judgedAt) >= Retain
		if ended || now.Sub(s.LastSeen) >= IdleLimit {
			t.remove(s)
		}
	}
	for peer, m := range t.inbound {
		for k, f := range m {
			if !f.EndedAt.IsZero() && now.Sub(f.EndedAt) >= Retain {
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
	sort.Slice(s.Inbound, func(i, j int) bool { return s.Inbound[i].FirstSeen.Before(s.Inbound[j].FirstSeen) })
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
func espClient(s *Session) (ESPClient, bool) {
	if s.Router {
		return ESPClient{}, false
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
	return ESPClient{}, false
}

func (t *Tracker) sortedSessions() []*Session {
	out := make([]*Session, 0, len(t.sessions))
	for _, s := range t.sessions {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].FirstSeen.Equal(out[j].FirstSeen) {
			return out[i].FirstSeen.Before(out[j].FirstSeen)
		}
		a, b := out[i].Key, out[j].Key
		return a.Host.String()+a.Peer.String()+string(a.Protocol) < b.Host.String()+b.Peer.String()+string(b.Protocol)
	})
	return out
}

func codesOf(fs []Finding) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = string(f.Code)
	}
	return strings.Join(parts, ",")
}
