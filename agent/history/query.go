package history

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DefaultLimit is Query's limit when Filter.Limit is 0 (INTERFACE.md).
const DefaultLimit = 50

// Filter selects events. Zero fields do not filter.
type Filter struct {
	Since time.Time // events at or after this time
	Kind  string    // a kind, or a prefix ending in "." ("vpn.")
	Limit int       // at most this many; 0 means DefaultLimit
}

// Query returns matching events, newest first. It sees every event committed
// so far (all of them after Flush).
func (s *Store) Query(f Filter) ([]Event, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil, fmt.Errorf("history: file is not open")
	}
	out := []Event{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketName)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			t, kind, _, err := recordHeader(v)
			if err != nil {
				return fmt.Errorf("history: record %d: %w", binary.BigEndian.Uint64(k), err)
			}
			if t.Before(f.Since) || !MatchKind(f.Kind, kind) {
				continue
			}
			ev, err := decodeRecord(k, v)
			if err != nil {
				return fmt.Errorf("history: record %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
