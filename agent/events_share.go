package agent

import (
	"context"
	"sync"
	"time"

	"github.com/vpnpass/vpnpass/agent/logx"

	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/vpn"
)

// What of an event may leave the box (ubus events, log lines: logd forwards
// both to an ISP's syslog). By default only codes: the kind, severity,
// protocol, the finding or NAT code and the details below, whose values are
// words of our vocabulary or counts. Host, peer and message (the texts name
// the LAN host, its name and MAC) and every other detail (addresses, the WAN
// address, rpcd logins, file paths) only with `option share_hosts '1'`.
// Metrics never carry any of them (docs/metrics.md).
var shareableDetails = []string{
	"code", "change", "previous_code", "class", "previous_class", "confirmed_by",
	"from", "to", "origin", "firewall_from", "firewall_to", "protocols", "changes",
	"suppressed", "overruns", "resyncs", "package", "option",
}

// attr is one key and value of an event as it leaves the box.
type attr struct {
	_   [0]func() // not comparable: no equality function in the binary
	key string
	val any
}

// attrs collects an event's attrs: one append site instead of one per key.
type attrs []attr

func (as *attrs) add(key string, val any) { *as = append(*as, attr{key: key, val: val}) }

// shareable is the event's view for ubus and the log, in a fixed order.
func shareable(ev *history.Event, shareHosts bool) []attr {
	out := make(attrs, 0, 8)
	out.add("kind", ev.Kind)
	out.add("severity", string(ev.Severity))
	if ev.Protocol != "" {
		out.add("protocol", ev.Protocol)
	}
	for _, k := range shareableDetails {
		if v, ok := ev.Details[k]; ok && v != nil && v != "" {
			out.add(k, v)
		}
	}
	if !shareHosts {
		return out
	}
	if ev.Host != "" {
		out.add("host", ev.Host)
	}
	if ev.Peer != "" {
		out.add("peer", ev.Peer)
	}
	out.add("message", ev.Message)
	if p, ok := ev.Details["params"].(map[string]any); ok {
		for _, k := range [...]string{"host_name", "host_mac"} {
			if v, ok := p[k]; ok && v != "" {
				out.add(k, v)
			}
		}
	}
	return out
}

// logEvent writes the event's one log line: `msg=event kind=... code=...`
// in logfmt (slog's text handler; the history's kind and code), at the
// event's severity, rate-limited. Every event goes through here.
func (d *Daemon) logEvent(ev *history.Event, shareHosts bool) {
	ok, held := d.fleet.logGate.take(time.Now())
	if !ok {
		return
	}
	as := shareable(ev, shareHosts)
	args := make([]any, 0, 2*len(as)+2)
	for _, a := range as {
		args = append(args, a.key, a.val)
	}
	if held > 0 {
		args = append(args, "suppressed", held)
	}
	d.log.Log(context.Background(), logLevel(ev.Severity), "event", args...)
}

func logLevel(s vpn.Severity) logx.Level {
	switch s {
	case vpn.SeverityError:
		return logx.LevelError
	case vpn.SeverityWarning:
		return logx.LevelWarn
	}
	return logx.LevelInfo
}

// rateGate is a token bucket: burst events at once, then rate per second;
// it counts what it held back so the next event can say so.
type rateGate struct {
	_            [0]func() // not comparable: no equality function in the binary
	mu           sync.Mutex
	rate, burst  float64
	tokens       float64
	last         time.Time
	held, misses uint64
}

func newRateGate(rate, burst float64) *rateGate {
	return &rateGate{rate: rate, burst: burst, tokens: burst}
}

// take spends a token; ok false when none is left. held is how many were
// refused since the last one that passed (reported once, then reset).
func (g *rateGate) take(now time.Time) (ok bool, held uint64) {
	g.mu.Lock() // no defer: nothing below can panic (smaller code)
	if !g.last.IsZero() {
		g.tokens += now.Sub(g.last).Seconds() * g.rate
		if g.tokens > g.burst {
			g.tokens = g.burst
		}
	}
	g.last = now
	if g.tokens < 1 {
		g.held++
		g.misses++
	} else {
		g.tokens--
		ok, held, g.held = true, g.held, 0
	}
	g.mu.Unlock()
	return ok, held
}

// refused is how many events the gate has refused in all.
func (g *rateGate) refused() uint64 {
	g.mu.Lock()
	n := g.misses
	g.mu.Unlock()
	return n
}
