package wan

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Config is the WAN watch's configuration (from the agent's UCI config).
type Config struct {
	// PublicRanges count as public (config `list public_range`).
	PublicRanges []netip.Prefix
	// NetworkConfig is OpenWrt's /etc/config/network, read on each
	// evaluation for MAP-E and DS-Lite; "" or a missing file = none.
	NetworkConfig string
	// Probe configures the active checks.
	Probe ProbeConfig
	// Debounce is the quiet time after a netlink change before the WAN is
	// evaluated again (default 300 ms): a reconnect brings a burst of changes.
	Debounce time.Duration
}

// ChangeSource tells when the WAN may have changed. Subscribe blocks until
// ctx ends, calling notify on every change and once whenever it starts
// listening (changes before that moment were not seen); it resubscribes by
// itself after a recoverable failure and returns an error only when it
// cannot go on.
type ChangeSource interface {
	Subscribe(ctx context.Context, notify func()) error
}

// Evaluate looks at the WAN once: discovery, classification and, when
// configured or when probe is set, the active checks.
func Evaluate(ctx context.Context, src InterfaceSource, cfg Config, probe bool) (none Nat, _ error) {
	in, err := gather(src, &cfg)
	if err != nil {
		return none, err
	}
	if probe || cfg.Probe.Enabled() {
		in.Probes = RunProbes(ctx, &in.Info, cfg.Probe, probe)
	}
	return classify(&in), nil
}

// gather reads the WAN and the network config. No WAN is not an error: the
// verdict says so.
func gather(src InterfaceSource, cfg *Config) (Input, error) {
	in := Input{PublicRanges: cfg.PublicRanges}
	info, err := src.WAN()
	switch {
	case errors.Is(err, ErrNoWAN):
	case err != nil:
		return in, err
	default:
		in.Info = info
	}
	if cfg.NetworkConfig != "" {
		if in.Network, err = ReadNetworkConfig(cfg.NetworkConfig); err != nil {
			return in, err
		}
	}
	return in, nil
}

// Watcher keeps the verdict current and reports changes.
type Watcher struct {
	Source  InterfaceSource
	Changes ChangeSource // nil: no subscription, only Refresh
	Config  Config
	// OnEvents receives the events of each change, in order, from the
	// watcher's goroutine; it must not block for long.
	OnEvents func([]Event)
	// OnError receives failures (discovery, subscription) to log.
	OnError func(error)

	evalMu  sync.Mutex // one evaluation at a time, so events come in order
	mu      sync.Mutex // guards the fields below
	cur     Nat
	curInfo Info
	have    bool

	changeSeq atomic.Uint64 // change notifications received
	subDone   atomic.Bool   // the subscription has ended (failed for good)
}

// ChangeSeq counts the subscription's notifications: every link, address
// or route change of any device, a (re)subscription, an overrun. ok is
// false before it first listens and once it has ended: then a change
// cannot be ruled out (the agent's status cache uses it for the LAN
// networks).
func (w *Watcher) ChangeSeq() (n uint64, ok bool) {
	n = w.changeSeq.Load()
	return n, n > 0 && !w.subDone.Load()
}

// Current returns the latest verdict and whether there is one yet.
func (w *Watcher) Current() (Nat, bool) {
	w.mu.Lock() // no defer: a copy cannot panic (smaller code)
	cur, have := w.cur, w.have
	w.mu.Unlock()
	return cur, have
}

// Run evaluates the WAN now and after every change until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	debounce := w.Config.Debounce
	if debounce <= 0 {
		debounce = 300 * time.Millisecond
	}
	kick := make(chan struct{}, 1)
	subErr := make(chan error, 1)
	// No defer (smaller code): the agent runs the watch on its own goroutine,
	// where a panic ends the process; both exits mark the subscription done.
	if w.Changes != nil {
		go func() {
			subErr <- w.Changes.Subscribe(ctx, func() {
				w.changeSeq.Add(1)
				select {
				case kick <- struct{}{}:
				default:
				}
			})
		}()
	}
	w.update(ctx, false, false)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			w.subDone.Store(true)
			return nil
		case err := <-subErr:
			w.subDone.Store(true)
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("wan watch: %w", err)
		case <-kick:
			timer.Reset(debounce)
		case <-timer.C:
			w.update(ctx, false, false)
		}
	}
}

// Refresh evaluates now, running the active checks when probe is set or
// configured, records any change, and returns the verdict (API `nat`).
func (w *Watcher) Refresh(ctx context.Context, probe bool) (Nat, error) {
	return w.update(ctx, true, probe)
}

// update evaluates and emits events. Unless force is set, an unchanged
// WAN is not evaluated again, so unrelated routes cost nothing and probes
// are not repeated.
func (w *Watcher) update(ctx context.Context, force, probe bool) (Nat, error) {
	w.evalMu.Lock()
	defer w.evalMu.Unlock()
	in, err := gather(w.Source, &w.Config)
	if err != nil {
		w.fail(err)
		cur, _ := w.Current()
		return cur, err
	}
	w.mu.Lock()
	if !force && w.have && in.Info.Same(&w.curInfo) {
		cur := w.cur
		w.mu.Unlock()
		return cur, nil
	}
	w.mu.Unlock()
	if probe || w.Config.Probe.Enabled() {
		in.Probes = RunProbes(ctx, &in.Info, w.Config.Probe, probe)
	}
	next := classify(&in)
	w.mu.Lock()
	var prev *Nat
	if w.have {
		p := w.cur
		prev = &p
	}
	w.cur, w.curInfo, w.have = next, in.Info, true
	w.mu.Unlock()
	if ev := Diff(prev, &next); len(ev) > 0 && w.OnEvents != nil {
		w.OnEvents(ev)
	}
	return next, nil
}

func (w *Watcher) fail(err error) {
	if w.OnError != nil {
		w.OnError(err)
	}
}
