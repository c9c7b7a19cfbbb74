package history

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// On OpenWrt the live history sits on tmpfs: cheap to write, lost at every
// reboot. A copy on flash survives; flash wears with every write, so the copy
// is written rarely (at a clean stop and at most every few hours, only when
// events were added since the last copy) and is bounded by the store's own
// cap (MaxBytes per write).

// Persist writes a consistent copy of the store to dst atomically: into
// dst.tmp, fsync, rename over dst, fsync the directory. A crash at any point
// leaves either the old copy or the new one, never a torn file.
func (s *Store) Persist(dst string) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if err := s.Flush(); err != nil {
		return fmt.Errorf("flush before saving the history: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("history copy directory: %w", err)
	}
	return writeAtomic(dst, func(w io.Writer) error {
		s.mu.RLock() // no compaction swaps the file under us
		err := s.db.View(func(tx *bolt.Tx) error {
			_, err := tx.WriteTo(w)
			return err
		})
		s.mu.RUnlock() // no defer: see highWater
		return err
	})
}

// writeAtomic writes path through path.tmp, fsync and rename.
func writeAtomic(path string, write func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(path)
	return nil
}

// Restored tells what Restore did.
type Restored struct {
	From  string // the copy the live history was restored from; "" = none
	Reset *Reset // the copy was corrupt and moved aside
}

// Restore starts the live history at live from the copy at saved when live
// does not exist (after a reboot: tmpfs is empty). A corrupt copy is moved
// aside to <saved>.corrupt-<UTC time> and the history starts empty; that is
// not an error. Errors are environmental (unreadable flash, full tmpfs).
func Restore(live, saved string, now time.Time) (none Restored, _ error) {
	if _, err := os.Lstat(live); !errors.Is(err, fs.ErrNotExist) {
		return none, err // live exists (nil), or cannot be looked at
	}
	if _, err := os.Stat(saved); errors.Is(err, fs.ErrNotExist) {
		return none, nil
	}
	db, _, err := openChecked(saved, DefaultLockTimeout, true)
	if err != nil {
		// A newer vpnpass's copy is kept for it: our copies would overwrite it.
		newer := errors.Is(err, ErrNewerFormat)
		if !newer && !isCorruption(err) {
			return none, fmt.Errorf("read the saved history: %w", err)
		}
		reset, merr := setAside(saved, err, now)
		switch {
		case merr != nil && newer:
			return none, fmt.Errorf("saved history %s: %v, and it cannot be kept aside: %w", saved, err, merr)
		case merr != nil:
			return none, fmt.Errorf("saved history %s is corrupt (%v) and cannot be moved aside: %w", saved, err, merr)
		}
		return Restored{Reset: reset}, nil
	}
	defer db.Close()
	if err := os.MkdirAll(filepath.Dir(live), 0o755); err != nil {
		return none, fmt.Errorf("history directory: %w", err)
	}
	err = writeAtomic(live, func(w io.Writer) error {
		return db.View(func(tx *bolt.Tx) error { _, err := tx.WriteTo(w); return err })
	})
	if err != nil {
		return none, err
	}
	return Restored{From: saved}, nil
}

// Persister decides when the live history is copied to flash: when every
// has passed since the last copy (or since start) and events were committed
// since; at a clean stop whenever events were committed since. every <= 0
// turns it off.
type Persister struct {
	_     incomparable
	store *Store
	path  string

	mu    sync.Mutex
	last  time.Time // last copy, or start
	saved int64     // the store's committed count at the last copy
}

// NewPersister returns a persister of s to path, counting from now.
func NewPersister(s *Store, path string, now time.Time) *Persister {
	return &Persister{store: s, path: path, last: now}
}

// Tick copies the history if a copy is due at now.
func (p *Persister) Tick(now time.Time, every time.Duration) (bool, error) {
	p.mu.Lock() // no defer (smaller code): the agent's persist goroutine, a panic ends the process
	saved, err := false, error(nil)
	if every > 0 && now.Sub(p.last) >= every {
		saved, err = p.saveLocked(now)
	}
	p.mu.Unlock()
	return saved, err
}

// Final copies the history at a clean stop if anything was added since the
// last copy.
func (p *Persister) Final(now time.Time, every time.Duration) (bool, error) {
	p.mu.Lock() // no defer (smaller code): the agent's stop, a panic ends the process
	saved, err := false, error(nil)
	if every > 0 {
		saved, err = p.saveLocked(now)
	}
	p.mu.Unlock()
	return saved, err
}

func (p *Persister) saveLocked(now time.Time) (bool, error) {
	if err := p.store.Flush(); err != nil {
		return false, fmt.Errorf("flush before saving the history: %w", err)
	}
	committed := p.store.stats.committed.Load()
	if committed == p.saved {
		p.last = now // nothing new: the next look is a full interval away
		return false, nil
	}
	if err := p.store.Persist(p.path); err != nil {
		return false, err
	}
	p.last, p.saved = now, committed
	return true, nil
}
