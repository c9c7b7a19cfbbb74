package history

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// run is the single writer: it gathers appended events into batches and
// commits each batch in one transaction (one fsync).
// No defers: it runs on its own goroutine, where a panic ends the process.
func (s *Store) run() {
	var batch []Event
	var batchBytes int64
	var timer <-chan time.Time
	ageTick := time.NewTicker(time.Hour) // ages out events even when none arrive
	commit := func() {
		if len(batch) > 0 {
			s.commit(batch)
		}
		batch, batchBytes, timer = nil, 0, nil
	}
	add := func(ev Event) {
		batch = append(batch, ev)
		batchBytes += int64(len(ev.Message)) + 128 // rough: enough to bound one batch's growth
		// A batch larger than a sixteenth of the cap could push the file over
		// it before pruning runs, so big bursts commit in slices.
		if len(batch) >= s.opts.MaxBatch || batchBytes >= s.opts.MaxBytes/16 {
			commit()
		}
	}
	for {
		select {
		case ev, ok := <-s.in:
			if !ok {
				commit()
				ageTick.Stop()
				close(s.done)
				return
			}
			add(ev)
			if timer == nil && len(batch) > 0 {
				timer = time.After(s.opts.BatchWindow)
			}
		case <-timer:
			commit()
		case reply := <-s.flushes:
			s.drain(add)
			commit()
			reply <- s.lastErr
			s.lastErr = nil
		case <-ageTick.C:
			if len(batch) == 0 {
				s.commit(nil)
			}
		}
	}
}

// drain takes the events queued when a Flush arrives: every Append that
// returned before the Flush began is among them (the channel is FIFO). Only
// that many: events that keep arriving during a storm must not keep the
// Flush from returning.
func (s *Store) drain(add func(Event)) {
	for n := len(s.in); n > 0; n-- {
		ev, ok := <-s.in
		if !ok {
			return
		}
		add(ev)
	}
}

// commit writes a batch and prunes in the same transaction, then compacts
// the file if it has outgrown the cap.
func (s *Store) commit(batch []Event) {
	s.mu.RLock()
	db := s.db
	var added, pruned, data int64
	err := errors.New("history file is not open")
	if db != nil {
		data = s.dataBytes
		err = db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucketName)
			if err != nil {
				return err
			}
			b.FillPercent = 0.95 // keys only ever grow: pack the pages
			if err := s.followClock(b, batch); err != nil {
				return err
			}
			for i := range batch {
				n, err := put(b, &batch[i], s.maxRecord())
				if err != nil {
					return err
				}
				data += n
				added++
			}
			pruned, data, err = s.prune(b, data)
			return err
		})
	}
	s.mu.RUnlock()
	if err != nil {
		s.stats.dropped.Add(int64(len(batch)))
		err = fmt.Errorf("history: commit %d events: %w", len(batch), err)
		s.setErr(err)
		if s.opts.OnError != nil {
			s.opts.OnError(err)
		}
		return
	}
	s.dataBytes = data
	s.stats.committed.Add(added)
	s.stats.commits.Add(1)
	s.stats.pruned.Add(pruned)
	if err := s.maybeCompact(); err != nil {
		s.setErr(err)
	}
}

func (s *Store) setErr(err error) {
	if s.lastErr == nil {
		s.lastErr = err
	}
}

// put stores one event under the bucket's next sequence number and returns
// the bytes it adds to the data budget.
func put(b *bolt.Bucket, ev *Event, limit int) (int64, error) {
	seq, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	ev.Seq = seq
	v, err := encodeRecord(ev)
	if err != nil {
		return 0, err
	}
	if len(v) > limit {
		// Keep the event, not its bulk: a huge message must not evict the rest.
		ev.Message = truncate(ev.Message, limit/4)
		ev.Details = map[string]any{"truncated": true}
		if v, err = encodeRecord(ev); err != nil {
			return 0, err
		}
	}
	k := seqKey(seq)
	if err := b.Put(k, v); err != nil {
		return 0, err
	}
	return recordCost(k, v), nil
}

// recordCost is what a record takes in a leaf page: key, value and bbolt's
// 16-byte element header.
func recordCost(k, v []byte) int64 { return int64(len(k) + len(v) + 16) }

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
