package wan

import (
	"context"
	"errors"
	"github.com/vpnpass/vpnpass/vpn"
	"strings"
	"sync"
	"testing"
	"time"
)

// mutableSource is an InterfaceSource whose answer the test changes.
type mutableSource struct {
	mu    sync.Mutex
	info  Info
	err   error
	calls int
}

func (m *mutableSource) WAN() (Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	return m.info, m.err
}

func (m *mutableSource) set(i Info, err error) {
	m.mu.Lock()
	m.info, m.err = i, err
	m.mu.Unlock()
}

// chanChanges is a ChangeSource driven by the test.
type chanChanges struct {
	ready  chan struct{}
	notify chan struct{}
	err    error
}

func (c *chanChanges) Subscribe(ctx context.Context, notify func()) error {
	close(c.ready)
	notify()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-c.notify:
			if !ok {
				return c.err
			}
			notify()
		}
	}
}

func startWatcher(t *testing.T, src InterfaceSource, ch *chanChanges) (*Watcher, chan []Event, chan error) {
	t.Helper()
	events := make(chan []Event, 64)
	w := &Watcher{Source: src, Changes: ch, Config: Config{PublicRanges: labPublic, Debounce: 20 * time.Millisecond},
		OnEvents: func(e []Event) { events <- e }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	<-ch.ready
	return w, events, done
}

func nextEvents(t *testing.T, events chan []Event) []Event {
	t.Helper()
	select {
	case e := <-events:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no events")
	}
	return nil
}

func TestWatcherEmitsOnChange(t *testing.T) {
	src := &mutableSource{info: wan("192.168.0.2/24", "192.168.0.1")}
	ch := &chanChanges{ready: make(chan struct{}), notify: make(chan struct{}, 1)}
	w, events, _ := startWatcher(t, src, ch)
	if e := nextEvents(t, events); len(e) != 1 || e[0].Details["change"] != ChangeDouble {
		t.Fatalf("first look: %+v", e)
	}
	src.set(wan("198.51.100.7/24", "198.51.100.1"), nil)
	// A burst of notifications is evaluated once, after the debounce.
	for i := 0; i < 5; i++ {
		ch.notify <- struct{}{}
	}
	e := nextEvents(t, events)
	if len(e) != 2 || e[0].Kind != KindWANChanged || e[1].Details["change"] != ChangeCleared {
		t.Fatalf("after the change: %+v", e)
	}
	if cur, ok := w.Current(); !ok || cur.Code != vpn.NATOK {
		t.Fatalf("current %+v", cur)
	}
	// An unrelated change (same Info) emits nothing.
	ch.notify <- struct{}{}
	select {
	case e := <-events:
		t.Fatalf("events without a WAN change: %+v", e)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestWatcherSourceErrors(t *testing.T) {
	src := &mutableSource{err: errors.New("netlink: boom")}
	ch := &chanChanges{ready: make(chan struct{}), notify: make(chan struct{}, 1)}
	var mu sync.Mutex
	var errs []error
	events := make(chan []Event, 8)
	w := &Watcher{Source: src, Changes: ch, Config: Config{Debounce: time.Millisecond},
		OnEvents: func(e []Event) { events <- e },
		OnError:  func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	<-ch.ready
	if _, err := w.Refresh(ctx, false); err == nil {
		t.Fatal("Refresh hid the source's error")
	}
	src.set(wan("100.64.0.2/10", "100.64.0.1"), nil)
	ch.notify <- struct{}{}
	if e := nextEvents(t, events); e[len(e)-1].Details["change"] != ChangeCGNAT {
		t.Fatalf("after recovery: %+v", e)
	}
	mu.Lock()
	if len(errs) == 0 {
		t.Error("OnError never called")
	}
	mu.Unlock()
	// No WAN at all is a verdict, not an error.
	src.set(Info{}, ErrNoWAN)
	n, err := w.Refresh(ctx, false)
	if err != nil || n.Code != "" {
		t.Fatalf("no WAN: %+v, %v", n, err)
	}
	// A subscription that cannot go on ends Run with its error.
	ch.err = errors.New("subscription lost")
	close(ch.notify)
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Run returned nil after the subscription failed")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

// Refresh with probe runs the gateway checks even when not configured; here
// they fail at once without sending anything (no gateway on a link-local
// WAN), and the message tells.
func TestWatcherRefreshProbe(t *testing.T) {
	src := &mutableSource{info: Info{Device: "eth1", Addresses: pfx("169.254.1.2/16")}}
	w := &Watcher{Source: src}
	n, err := w.Refresh(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	p := n.Probes
	if p.NATPMP == nil || !errors.Is(p.NATPMP.Err, errNoGateway) || p.IGD == nil || !errors.Is(p.IGD.Err, errNoGateway) || p.STUN != nil {
		t.Fatalf("probes %+v", p)
	}
	if !strings.Contains(n.Message, "NAT-PMP: no IPv4 gateway") {
		t.Errorf("message %q", n.Message)
	}
}

// TestWatcherChangeSeq: the count moves with every notification and says
// "not listening" before the subscription starts and after it has failed
// for good (the agent's status cache must then stop reusing).
func TestWatcherChangeSeq(t *testing.T) {
	w := &Watcher{Source: &mutableSource{info: wan("198.51.100.2/24", "198.51.100.1")}}
	if _, ok := w.ChangeSeq(); ok {
		t.Fatal("listening before Run")
	}
	ch := &chanChanges{ready: make(chan struct{}), notify: make(chan struct{}), err: errors.New("netlink: gone")}
	w.Changes, w.Config = ch, Config{PublicRanges: labPublic, Debounce: time.Millisecond}
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	<-ch.ready
	first, ok := w.ChangeSeq()
	if !ok {
		t.Fatal("not listening after the subscription's first notification")
	}
	ch.notify <- struct{}{} // unbuffered: handed over, notify runs before the next receive
	ch.notify <- struct{}{}
	if n, ok := w.ChangeSeq(); !ok || n < first+1 {
		t.Fatalf("after two changes: %d (from %d), listening %v", n, first, ok)
	}
	close(ch.notify) // the subscription fails for good
	if err := <-done; err == nil {
		t.Fatal("Run hid the subscription's failure")
	}
	if _, ok := w.ChangeSeq(); ok {
		t.Fatal("still listening after the subscription failed")
	}
}
