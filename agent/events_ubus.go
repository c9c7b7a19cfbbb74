package agent

import (
	"context"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/vpnpass/vpnpass/internal/jsonx"

	"github.com/vpnpass/vpnpass/agent/history"
)

// ubusEventPrefix names our ubus events: vpnpass.<kind> (vpnpass.vpn.finding).
const ubusEventPrefix = "vpnpass."

// Limits of the ubus events: at most ubusBurst at once, then ubusRate per
// second (each is one `ubus send` process); a queue for the sender.
const (
	ubusRate    = 5
	ubusBurst   = 20
	ubusQueue   = 64
	ubusTimeout = 3 * time.Second
)

// ubusCommand is the ubus CLI, found through PATH (on OpenWrt /bin/ubus).
var ubusCommand = "ubus"

// ubusPublisher sends history events as ubus events through the box's own
// `ubus send` (fixed argv: name and our JSON), one process at a time on its
// own goroutine, so record never waits for ubusd.
type ubusPublisher struct {
	path   string
	gate   *rateGate
	ch     chan ubusEvent
	done   chan struct{}
	mu     sync.Mutex // guards closed and sends on ch
	closed bool
	// counts for the metrics
	sent, failed, dropped atomic.Uint64
	onError               func(error)
}

type ubusEvent struct {
	_             [0]func() // not comparable: no equality function in the binary
	name, payload string
}

// newUbusPublisher returns nil when there is no ubus on this box.
func newUbusPublisher(onError func(error)) *ubusPublisher {
	path, err := exec.LookPath(ubusCommand)
	if err != nil {
		return nil
	}
	p := &ubusPublisher{path: path, gate: newRateGate(ubusRate, ubusBurst),
		ch: make(chan ubusEvent, ubusQueue), done: make(chan struct{}), onError: onError}
	go p.run()
	return p
}

// publish queues the event; over the rate or with a full queue it is
// dropped and counted (the next one carries "dropped": n).
func (p *ubusPublisher) publish(ev *history.Event, shareHosts bool) {
	if p == nil {
		return
	}
	ok, held := p.gate.take(time.Now())
	if !ok {
		p.dropped.Add(1)
		return
	}
	m := map[string]any{"time": ev.Time.UTC().Format(time.RFC3339)}
	for _, a := range shareable(ev, shareHosts) {
		m[a.key] = a.val
	}
	if held > 0 {
		m["dropped"] = held
	}
	b, err := json.Marshal(m)
	if err != nil {
		p.failed.Add(1)
		return
	}
	e := ubusEvent{name: ubusEventPrefix + ev.Kind, payload: string(b)}
	p.mu.Lock() // no defer: closed guards the send, nothing below can panic (smaller code)
	if p.closed {
		p.dropped.Add(1)
	} else {
		select {
		case p.ch <- e:
		default:
			p.dropped.Add(1)
		}
	}
	p.mu.Unlock()
}

// run is the publisher's goroutine (no defer: a panic there ends the process).
func (p *ubusPublisher) run() {
	for e := range p.ch {
		ctx, cancel := context.WithTimeout(context.Background(), ubusTimeout)
		err := exec.CommandContext(ctx, p.path, "send", e.name, e.payload).Run()
		cancel()
		if err != nil {
			p.failed.Add(1)
			if p.onError != nil {
				p.onError(err)
			}
			continue
		}
		p.sent.Add(1)
	}
	close(p.done)
}

// close sends what is queued (agent.stopped at the end), waiting at most wait.
func (p *ubusPublisher) close(wait time.Duration) {
	if p == nil {
		return
	}
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.ch)
	}
	p.mu.Unlock()
	select {
	case <-p.done:
	case <-time.After(wait):
	}
}
