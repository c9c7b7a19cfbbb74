package conntrack

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Watch runs a Watcher until ctx is done; see Watcher.Run.
func Watch(ctx context.Context, cfg WatchConfig, events chan<- Event) error {
	return NewWatcher(cfg).Run(ctx, events)
}

// Run subscribes to conntrack NEW/UPDATE/DESTROY events, then dumps the
// table (flows older than the subscription send no events: the kernel only
// reports flows created while a listener existed), delivering the footprint
// flows as EventDump followed by EventSyncDone, then delivers events until
// ctx is done (it then returns nil). When the kernel drops events because
// the socket overflowed (ENOBUFS), Run counts the overrun, dumps again so
// the consumer can resynchronise, calls OnOverrun and keeps going.
func (w *Watcher) Run(ctx context.Context, events chan<- Event) error {
	sub, err := w.subscribe()
	if err != nil {
		return err
	}
	// No defers: Run is the agent's conntrack-watch goroutine, where nothing
	// recovers; the socket is released at the one exit (docs/design.md#size).
	stop := context.AfterFunc(ctx, sub.stop)
	err = w.watch(ctx, sub, events)
	stop()
	sub.c.Close()
	return err
}

// watch is Run's work on the subscribed socket.
func (w *Watcher) watch(ctx context.Context, sub *subscription, events chan<- Event) error {
	if err := w.sync(ctx, events, nil); err != nil {
		return ctxOr(ctx, err)
	}
	for {
		msgs, err := sub.c.Receive()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, unix.ENOBUFS):
			if err := w.overrun(ctx, sub, events); err != nil {
				return ctxOr(ctx, err)
			}
			continue
		case err != nil:
			return fmt.Errorf("receive conntrack events: %w", err)
		}
		for _, m := range msgs {
			if err := w.deliverMessage(ctx, m, events); err != nil {
				return nil // ctx done while delivering
			}
		}
	}
}

// ctxOr hides errors caused by the cancellation itself.
func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// subscription is the event socket. stop (on cancel) and the drain after an
// overrun both move its read deadline; the mutex keeps a drain from undoing
// a stop.
type subscription struct {
	_       [0]func() // not comparable: no generated equality function (binary size)
	c       *netlink.Conn
	mu      sync.Mutex
	stopped bool
}

func (s *subscription) stop() {
	s.mu.Lock()
	s.stopped = true
	_ = s.c.SetReadDeadline(time.Unix(1, 0))
	s.mu.Unlock()
}

func (s *subscription) setDeadline(t time.Time) {
	s.mu.Lock()
	if !s.stopped {
		_ = s.c.SetReadDeadline(t)
	}
	s.mu.Unlock()
}

// drain reads and discards what is queued. After an overrun the kernel marks
// the socket congested and silently drops every further event until a read
// finds the queue empty; only then can a dump be trusted to cover the gap.
func (s *subscription) drain() (n uint64) {
	// Bounded: under an endless burst the queue never empties; then the
	// dump below still runs and a later overrun repeats the cycle.
	for end := time.Now().Add(drainLimit); time.Now().Before(end); {
		s.setDeadline(time.Now().Add(drainWait))
		msgs, err := s.c.Receive()
		if err != nil && !errors.Is(err, unix.ENOBUFS) {
			break // the deadline: the queue is empty
		}
		n += uint64(len(msgs))
	}
	s.setDeadline(time.Time{})
	return n
}

// drainWait is how long drain waits for more queued events before it
// considers the queue empty; drainLimit bounds the whole drain.
const (
	drainWait  = 20 * time.Millisecond
	drainLimit = time.Second
)

// subscribe opens the event socket: the three flow event groups, the
// footprint filter in the kernel, and the receive buffer.
func (w *Watcher) subscribe() (*subscription, error) {
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: w.cfg.NetNS})
	if err != nil {
		return nil, fmt.Errorf("open conntrack event socket: %w", err)
	}
	if err := w.setup(c); err != nil {
		c.Close()
		return nil, err
	}
	return &subscription{c: c}, nil
}

func (w *Watcher) setup(c *netlink.Conn) error {
	size := w.cfg.ReadBuffer
	if size <= 0 {
		size = DefaultReadBuffer
	}
	if err := setReadBuffer(c, size); err != nil {
		return err
	}
	if !w.cfg.AllFlows {
		prog, err := footprintFilter()
		if err != nil {
			return fmt.Errorf("build conntrack event filter: %w", err)
		}
		if err := c.SetBPF(prog); err != nil {
			return fmt.Errorf("attach conntrack event filter: %w", err)
		}
		w.count(func(s *WatchStats) { s.KernelFilter = true })
	}
	for _, g := range [...]uint32{unix.NFNLGRP_CONNTRACK_NEW, unix.NFNLGRP_CONNTRACK_UPDATE, unix.NFNLGRP_CONNTRACK_DESTROY} {
		if err := c.JoinGroup(g); err != nil {
			return fmt.Errorf("join conntrack event group %d: %w", g, err)
		}
	}
	return nil
}

// setReadBuffer forces the size as root (beyond net.core.rmem_max) and
// falls back to the ordinary, capped option.
func setReadBuffer(c *netlink.Conn, size int) error {
	rc, err := c.SyscallConn()
	if err == nil {
		var serr error
		err = rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size)
		})
		if err == nil && serr == nil {
			return nil
		}
	}
	if err := c.SetReadBuffer(size); err != nil {
		return fmt.Errorf("set conntrack event socket buffer to %d bytes: %w", size, err)
	}
	return nil
}

func (w *Watcher) overrun(ctx context.Context, sub *subscription, events chan<- Event) error {
	at := w.cfg.now()
	stale := sub.drain()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	w.count(func(s *WatchStats) { s.Overruns++; s.Resyncs++; s.LastOverrun = at; s.Discarded += stale })
	return w.sync(ctx, events, func() {
		if w.cfg.OnOverrun != nil {
			w.cfg.OnOverrun(w.Stats())
		}
	})
}

// sync dumps the table and delivers its footprint flows, then calls
// beforeDone (if any) and delivers EventSyncDone.
func (w *Watcher) sync(ctx context.Context, events chan<- Event, beforeDone func()) error {
	at := w.cfg.now()
	err := dumpEach(w.cfg.NetNS, func(f *Flow) error {
		if !w.cfg.AllFlows && !isFootprint(f) {
			w.count(func(s *WatchStats) { s.Ignored++ })
			return nil
		}
		return w.send(ctx, events, Event{Type: EventDump, Flow: *f.fromKernel(), Time: at})
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("dump conntrack table: %w", err)
	}
	if beforeDone != nil {
		beforeDone()
	}
	return w.send(ctx, events, Event{Type: EventSyncDone, Time: at})
}

func (w *Watcher) deliverMessage(ctx context.Context, m netlink.Message, events chan<- Event) error {
	w.count(func(s *WatchStats) { s.Received++ })
	t, f, err := decodeMessage(uint16(m.Header.Type), uint16(m.Header.Flags), m.Data)
	if err != nil {
		w.count(func(s *WatchStats) { s.DecodeErrors++ })
		return nil
	}
	if !w.cfg.AllFlows && !isFootprint(&f) {
		w.count(func(s *WatchStats) { s.Ignored++ })
		return nil
	}
	return w.send(ctx, events, Event{Type: t, Flow: *f.fromKernel(), Time: w.cfg.now()})
}

func (w *Watcher) send(ctx context.Context, events chan<- Event, ev Event) error {
	select {
	case events <- ev:
		w.count(func(s *WatchStats) { s.Delivered++ })
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// DumpFootprint returns the footprint flows in the conntrack table of the
// namespace netns (0: the calling thread's), for a one-off diagnosis
// without a running watch.
func DumpFootprint(netns int) ([]Flow, error) {
	var out []Flow
	err := dumpEach(netns, func(f *Flow) error {
		if isFootprint(f) {
			out = append(out, *f.fromKernel())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dump conntrack table: %w", err)
	}
	return out, nil
}
