package history

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	json "github.com/vpnpass/vpnpass/internal/jsonx"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DefaultLimit is Query's limit when Filter.Limit is 0 (docs/interface.md#history).
const DefaultLimit = 50

// Filter selects events. Zero fields do not filter.
type Filter struct {
	Since time.Time // events at or after this time
	Kind  string    // a kind, or a prefix ending in "." ("vpn.")
	Limit int       // at most this many; 0 means DefaultLimit
	Until time.Time // events at or before this time; zero: no end
	// Protocol keeps one protocol's events (decodes each candidate's body).
	Protocol string
	Before   uint64 // events with a smaller seq (paging); 0: from the newest
}

// Query returns matching events, newest first. It sees every event committed
// so far (all of them after Flush).
func (s *Store) Query(f Filter) ([]Event, error) {
	out := []Event{}
	err := s.scan(f, func(k, v, _ []byte) error {
		ev, err := decodeRecord(k, v)
		if err != nil {
			return err
		}
		out = append(out, ev)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// QueryJSON is Query for the API: each event's JSON exactly as stored (the
// Event shape of docs/interface.md#history, seq included), without decoding it. It is
// several times faster than Query.
func (s *Store) QueryJSON(f Filter) ([]json.RawMessage, error) {
	out := []json.RawMessage{}
	err := s.scan(f, func(_, _, body []byte) error {
		out = append(out, bytes.Clone(body))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scan calls fn for each matching record, newest first, up to the limit.
// The slices are only valid during the call.
func (s *Store) scan(f Filter, fn func(k, v, body []byte) error) error {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return errors.New("history: file is not open")
	}
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketName)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		n := 0
		for k, v := start(c, f.Before); k != nil && n < limit; k, v = c.Prev() {
			t, kind, body, err := recordHeader(v)
			if err != nil {
				return fmt.Errorf("history: record %d: %w", binary.BigEndian.Uint64(k), err)
			}
			if t.Before(f.Since) || (!f.Until.IsZero() && t.After(f.Until)) || !MatchKind(f.Kind, kind) || !matchProtocol(f.Protocol, body) {
				continue
			}
			if err := fn(k, v, body); err != nil {
				return fmt.Errorf("history: record %d: %w", binary.BigEndian.Uint64(k), err)
			}
			n++
		}
		return nil
	})
}

// start positions the cursor on the newest record, or with before set on
// the newest record whose seq is below it.
func start(c *bolt.Cursor, before uint64) ([]byte, []byte) {
	if before == 0 {
		return c.Last()
	}
	key := binary.BigEndian.AppendUint64(nil, before)
	if k, _ := c.Seek(key); k == nil {
		return c.Last()
	}
	return c.Prev()
}

// matchProtocol reports whether an event's stored JSON names the protocol
// (any event when protocol is empty).
func matchProtocol(protocol string, body []byte) bool {
	if protocol == "" {
		return true
	}
	var ev struct {
		Protocol string `json:"protocol"`
	}
	return json.Unmarshal(body, &ev) == nil && ev.Protocol == protocol
}
