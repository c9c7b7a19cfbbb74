package conntrack

import (
	"sync"
	"time"
)

// DefaultReadBuffer is the event socket's receive buffer unless
// WatchConfig.ReadBuffer says otherwise: big enough for a burst of VPN
// events, small enough for a router with 64 MiB of RAM.
const DefaultReadBuffer = 512 << 10

// WatchConfig configures Watch.
type WatchConfig struct {
	// Clock stamps events; nil means time.Now. Tests inject their own.
	Clock func() time.Time
	// AllFlows disables the footprint filter (kernel and userspace): every
	// flow is delivered. For tests and debugging only.
	AllFlows bool
	// ReadBuffer is the event socket's receive buffer in bytes; 0 means
	// DefaultReadBuffer. Tests shrink it to provoke overruns.
	ReadBuffer int
	// NetNS is a network namespace file descriptor to watch; 0 means the
	// namespace of the calling thread.
	NetNS int
	// OnOverrun is called (on the watch goroutine) after each overrun, once
	// the flows of the resynchronising dump have been delivered and before
	// its EventSyncDone.
	OnOverrun func(WatchStats)
}

func (c WatchConfig) now() time.Time {
	if c.Clock != nil {
		return c.Clock()
	}
	return time.Now()
}

// WatchStats counts what the watch did; the agent reports overruns as
// conntrack.overrun events.
type WatchStats struct {
	_            [0]func() // not comparable: no generated equality function (binary size)
	Received     uint64    // event messages read from the socket
	Delivered    uint64    // events sent on the channel, dumps included
	Ignored      uint64    // events or dumped flows outside the footprint, dropped in userspace
	DecodeErrors uint64    // messages that were not conntrack events
	Overruns     uint64    // ENOBUFS: the kernel dropped events
	Resyncs      uint64    // dumps taken after an overrun
	Discarded    uint64    // queued events dropped after an overrun (the dump covers them)
	LastOverrun  time.Time // zero if none
	KernelFilter bool      // the BPF footprint filter is attached
}

// Watcher watches conntrack; Stats may be read while Run runs.
type Watcher struct {
	cfg   WatchConfig
	mu    sync.Mutex
	stats WatchStats
}

// NewWatcher returns a watcher; call Run to start it.
func NewWatcher(cfg WatchConfig) *Watcher { return &Watcher{cfg: cfg} }

// Stats returns a copy of the counters.
func (w *Watcher) Stats() WatchStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

func (w *Watcher) count(fn func(*WatchStats)) WatchStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	fn(&w.stats)
	return w.stats
}
