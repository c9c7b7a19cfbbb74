package history

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vpnpass/vpnpass/vpn"

	bolt "go.etcd.io/bbolt"
)

// Options bound the store. Zero values take the defaults.
type Options struct {
	MaxBytes    int64         // cap of the file on disk; default 512 KiB
	MaxAge      time.Duration // events older than this are dropped; default 30 days
	BatchWindow time.Duration // how long an appended event may wait for its batch; default 200 ms
	MaxBatch    int           // events per commit at most; default 1024
	LockTimeout time.Duration // how long Open waits for bbolt's file lock; default 1 s
	Now         func() time.Time
	// Elapsed is a monotonic clock (any origin): the wall clock is checked
	// against it for steps (clock.go). Default: Go's monotonic reading when
	// Now is not set either; nil with a Now of one's own: steps not followed.
	Elapsed func() time.Duration
	// OnError, when set, is called on the store's goroutine with each
	// failed commit (a full or read-only filesystem): its events are
	// dropped and counted in Stats.Dropped.
	OnError func(error)
}

// Defaults.
const (
	DefaultMaxBytes    = 512 << 10
	DefaultMaxAge      = 30 * 24 * time.Hour
	DefaultBatchWindow = 200 * time.Millisecond
	DefaultMaxBatch    = 1024
	DefaultLockTimeout = time.Second
)

// minMaxBytes: below this bbolt's own pages (meta, freelist, root) leave no
// room for events.
const minMaxBytes = 64 << 10

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	o.MaxBytes = max(o.MaxBytes, minMaxBytes)
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.BatchWindow <= 0 {
		o.BatchWindow = DefaultBatchWindow
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.Now == nil && o.Elapsed == nil {
		o.Elapsed = sinceStart // with an injected Now alone, steps are not followed
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Errors.
var (
	ErrClosed   = errors.New("history: store closed")
	ErrReadOnly = errors.New("history: store opened read-only")
	// ErrLocked: another process (the daemon) holds the file's lock.
	ErrLocked = errors.New("history: file is locked by another process (the daemon is running; ask it through the API)")
	// ErrCorrupt: the file is not a valid history (OpenReadOnly does not repair).
	ErrCorrupt = errors.New("history: file is corrupt")
)

var bucketName = []byte("events")

// Store is an open history. Append, Flush, Query and Close are safe for
// concurrent use.
type Store struct {
	path     string
	opts     Options
	readOnly bool

	mu sync.RWMutex // held for reading by queries, for writing while the file is swapped
	db *bolt.DB

	closeMu sync.RWMutex
	closed  bool
	in      chan Event
	flushes chan chan error
	done    chan struct{}

	// owned by the batcher goroutine
	dataBytes    int64
	lastErr      error
	compactedHWM int64 // bbolt's high-water mark right after the last compaction

	reset *Reset
	stats struct {
		_                                                            incomparable
		committed, commits, pruned, compactions, dropped, clockSteps atomic.Int64
	}
	anchor  clockAnchor // owned by the batcher: wall and monotonic readings at Open or the last step
	openSeq uint64      // the first seq of this run
}

// Reset describes a corrupt file that Open moved aside.
type Reset struct {
	_       incomparable
	MovedTo string `json:"moved_to"`
	Reason  string `json:"reason"`
	Newer   bool   `json:"newer,omitempty"` // a newer vpnpass's file, kept rather than corrupt
}

// Stats counts what the store did since Open.
type Stats struct {
	Committed   int64 // events written
	Commits     int64 // transactions (fsyncs) that wrote them
	Pruned      int64 // events dropped for age or size
	Compactions int64 // file rewrites to give space back
	Dropped     int64 // events lost to a failed commit
	ClockSteps  int64 // wall-clock steps followed (clock.go)
	FileBytes   int64 // current size of the file
}

// Open opens (creating it if needed) the history at path for the daemon. A
// corrupt file (truncated, random bytes, empty) is moved aside to
// <path>.corrupt-<UTC time>, a fresh file is started and a history.reset
// event records why; Reset() tells the caller. A file locked by another
// process gives ErrLocked after opts.LockTimeout.
func Open(path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("history directory: %w", err)
	}
	os.Remove(compactPath(path)) // left by a compaction that was interrupted
	db, data, err := openChecked(path, opts.LockTimeout, false)
	var reset *Reset
	if err != nil {
		if !isCorruption(err) && !errors.Is(err, ErrNewerFormat) {
			return nil, err
		}
		var merr error
		if reset, merr = setAside(path, err, opts.Now()); merr != nil {
			return nil, fmt.Errorf("history file %s is corrupt (%v) and cannot be moved aside: %w", path, err, merr)
		}
		if db, data, err = openChecked(path, opts.LockTimeout, false); err != nil {
			return nil, fmt.Errorf("start a new history file after moving the corrupt one aside: %w", err)
		}
	}
	s := &Store{
		path: path, opts: opts, db: db, dataBytes: data, reset: reset,
		in:      make(chan Event, 4*opts.MaxBatch),
		flushes: make(chan chan error),
		done:    make(chan struct{}),
	}
	if opts.Elapsed != nil {
		s.anchor = clockAnchor{wall: opts.Now(), mono: opts.Elapsed()}
	}
	db.View(func(tx *bolt.Tx) error {
		s.openSeq = 1
		if b := tx.Bucket(bucketName); b != nil {
			s.openSeq = b.Sequence() + 1
		}
		return nil
	})
	go s.run()
	if reset != nil {
		s.Append(&Event{
			Kind: KindHistoryReset, Severity: vpn.SeverityError,
			Message: resetMessage(reset),
			Details: map[string]any{"moved_to": reset.MovedTo, "reason": reset.Reason},
		})
		if err := s.Flush(); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func resetMessage(r *Reset) string {
	if r.Newer {
		return "the history file was not read: " + r.Reason + "; it was kept as " + r.MovedTo + " and a new one started"
	}
	return "the history file was corrupt (" + r.Reason + "); it was moved to " + r.MovedTo + " and a new one started"
}

// OpenReadOnly opens the history for reading without a daemon (the CLI). It
// fails with ErrLocked while the daemon holds the file and with ErrCorrupt
// for a corrupt file, which it leaves alone.
func OpenReadOnly(path string) (*Store, error) {
	opts := Options{LockTimeout: 100 * time.Millisecond}.withDefaults()
	db, _, err := openChecked(path, opts.LockTimeout, true)
	if err != nil {
		if errors.Is(err, ErrNewerFormat) {
			return nil, fmt.Errorf("history %s: %w", path, err)
		}
		if isCorruption(err) {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		return nil, err
	}
	return &Store{path: path, opts: opts, db: db, readOnly: true}, nil
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// Reset returns what Open found corrupt and moved aside, nil when the file was sound.
func (s *Store) Reset() *Reset { return s.reset }

// Stats returns counters and the file's current size.
func (s *Store) Stats() Stats {
	st := Stats{
		Committed: s.stats.committed.Load(), Commits: s.stats.commits.Load(), Pruned: s.stats.pruned.Load(),
		Compactions: s.stats.compactions.Load(), Dropped: s.stats.dropped.Load(), ClockSteps: s.stats.clockSteps.Load(),
	}
	if fi, err := os.Stat(s.path); err == nil {
		st.FileBytes = fi.Size()
	}
	return st
}

// Append queues a copy of *ev (ev is left as it is); it is committed with its
// batch within BatchWindow, or at Flush. Time defaults to now and Severity to
// info. Append blocks only while the queue is full (4×MaxBatch events).
func (s *Store) Append(ev *Event) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if ev.Kind == "" {
		return errors.New("history: event without kind")
	}
	e := *ev
	if e.Time.IsZero() {
		e.Time = s.opts.Now()
		if s.opts.Elapsed != nil {
			e.mono, e.stamped = s.opts.Elapsed(), true
		}
	}
	e.Time = e.Time.UTC()
	if e.Severity == "" {
		e.Severity = vpn.SeverityInfo
	}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	s.in <- e // Close waits for the write lock: s.in stays open while we send
	s.closeMu.RUnlock()
	return nil
}

// Flush commits every event appended before it and returns the first commit
// error since the previous Flush.
func (s *Store) Flush() error {
	if s.readOnly {
		return nil
	}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	reply := make(chan error, 1)
	s.flushes <- reply
	s.closeMu.RUnlock()
	return <-reply
}

// Close commits pending events and closes the file.
func (s *Store) Close() error {
	if s.readOnly {
		return s.db.Close()
	}
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return ErrClosed
	}
	s.closed = true
	close(s.in)
	s.closeMu.Unlock()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.lastErr
	if s.db != nil {
		err = errors.Join(err, s.db.Close())
	}
	return err
}
