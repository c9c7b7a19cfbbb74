package history

import (
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

// budget is how many record bytes the store keeps. bbolt pages, its free
// pages awaiting reuse and the doubling of its file size need the rest of
// the cap: with 40% of the cap in records the file stays well inside it.
func (s *Store) budget() int64 { return s.opts.MaxBytes * 2 / 5 }

// maxRecord bounds one event so a single huge message cannot evict the rest.
func (s *Store) maxRecord() int { return int(s.opts.MaxBytes / 32) }

// prune deletes the oldest events while they are older than MaxAge or the
// records exceed the budget. It runs inside the batch's transaction.
func (s *Store) prune(b *bolt.Bucket, data int64) (pruned, left int64, err error) {
	cutoff := s.opts.Now().Add(-s.opts.MaxAge)
	budget := s.budget()
	var dead [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		t, _, _, herr := recordHeader(v)
		if herr == nil && !t.Before(cutoff) && data <= budget {
			break
		}
		dead = append(dead, append([]byte(nil), k...))
		data -= recordCost(k, v)
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return 0, 0, err
		}
	}
	return int64(len(dead)), data, nil
}

// maybeCompact rewrites the file when it is over the cap, or when bbolt's
// high-water mark is within a quarter of the cap and has grown since the last
// rewrite (before a burst can take the file past it).
func (s *Store) maybeCompact() error {
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("history: stat: %w", err)
	}
	hwm := s.highWater()
	limit := s.opts.MaxBytes
	if fi.Size() <= limit && (hwm <= limit*3/4 || hwm <= s.compactedHWM+limit/8) {
		return nil
	}
	return s.compact()
}

// highWater returns the bytes below bbolt's high-water mark (pages in use or free).
// No defer (smaller code): it runs on the writer's goroutine (run), where a
// panic ends the process; so do compact and Persist.
func (s *Store) highWater() int64 {
	s.mu.RLock()
	var n int64
	if s.db != nil {
		s.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	}
	s.mu.RUnlock()
	return n
}

func compactPath(path string) string { return path + ".compact" }

// compact copies the live records into a new file and renames it over the
// old one. A crash at any point leaves either the old or the new file at
// path (a leftover .compact file is removed by the next Open).
func (s *Store) compact() error {
	tmp := compactPath(s.path)
	os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: s.opts.LockTimeout})
	if err != nil {
		return fmt.Errorf("history: compact: %w", err)
	}
	s.mu.Lock()
	err = s.compactLocked(dst, tmp)
	s.mu.Unlock()
	return err
}

// compactLocked is compact's part under s.mu.
func (s *Store) compactLocked(dst *bolt.DB, tmp string) error {
	if err := bolt.Compact(dst, s.db, 0); err != nil {
		dst.Close()
		os.Remove(tmp)
		return fmt.Errorf("history: compact: %w", err)
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("history: compact: %w", err)
	}
	s.db.Close()
	renameErr := os.Rename(tmp, s.path)
	if renameErr != nil {
		os.Remove(tmp)
	} else {
		syncDir(s.path)
	}
	db, err := bolt.Open(s.path, 0o600, &bolt.Options{Timeout: 5 * s.opts.LockTimeout})
	if err != nil {
		s.db = nil
		return fmt.Errorf("history: reopen after compaction: %w", err)
	}
	s.db = db
	if renameErr != nil {
		return fmt.Errorf("history: compact: %w", renameErr)
	}
	s.stats.compactions.Add(1)
	db.View(func(tx *bolt.Tx) error { s.compactedHWM = tx.Size(); return nil })
	return nil
}

func syncDir(path string) {
	if d, err := os.Open(dirOf(path)); err == nil {
		d.Sync()
		d.Close()
	}
}
