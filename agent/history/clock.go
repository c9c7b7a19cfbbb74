package history

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// Routers have no RTC: they boot with the clock at the firmware's date or
// the newest file's, and NTP steps it at sync, years forward or sometimes
// back. Order is by seq, never by time, and --since tests every record;
// but events stamped before the step carry the wrong time, and age pruning
// would drop the boot's events as years old minutes after they happened.
// The store therefore follows the wall clock against a monotonic one: when
// they part by more than clockStep, the events this process stamped before
// the step are moved by it (records committed since Open, and the pending
// batch), before anything is pruned. Records of earlier runs keep their
// times: which clock they were stamped by is not known.

// clockStep is the smallest wall-clock jump taken for a step (NTP slews
// smaller offsets; a commit never takes this long).
const clockStep = 10 * time.Second

// monoStart is the origin of the default monotonic clock.
var monoStart = time.Now()

func sinceStart() time.Duration { return time.Since(monoStart) }

// clockAnchor pairs a wall and a monotonic reading taken together.
type clockAnchor struct {
	wall time.Time
	mono time.Duration
}

// stepped reports the wall clock's jump since the anchor (0: none). (Times
// by pointer: mips copies a time.Time argument twice per call site.)
func (a *clockAnchor) stepped(wall *time.Time, mono time.Duration) time.Duration {
	// a.wall.Add(...) is the wall time at mono if the clock has not stepped.
	if off := wall.Sub(a.wall.Add(mono - a.mono)); off > clockStep || off < -clockStep {
		return off
	}
	return 0
}

// followClock runs in the commit's transaction: on a step it moves the
// times of this run's records and of the batch events stamped before it.
func (s *Store) followClock(b *bolt.Bucket, batch []Event) error {
	if s.opts.Elapsed == nil {
		return nil
	}
	wall, mono := s.opts.Now(), s.opts.Elapsed()
	off := s.anchor.stepped(&wall, mono)
	if off == 0 {
		return nil
	}
	for i := range batch {
		ev := &batch[i]
		if ev.stamped && s.anchor.stepped(&ev.Time, ev.mono) == 0 {
			shift(&ev.Time, off)
		}
	}
	c := b.Cursor()
	for k, v := c.Seek(seqKey(s.openSeq)); k != nil; k, v = c.Next() {
		ev, err := decodeRecord(k, v)
		if err != nil {
			continue // check() vouched for every record at Open; leave any other alone
		}
		shift(&ev.Time, off)
		nv, err := encodeRecord(&ev)
		if err != nil {
			return err
		}
		if err := b.Put(append([]byte(nil), k...), nv); err != nil {
			return err
		}
	}
	s.anchor = clockAnchor{wall: wall, mono: mono}
	s.stats.clockSteps.Add(1)
	return nil
}

// shift moves *t by off (in UTC, as events are stored).
func shift(t *time.Time, off time.Duration) { *t = t.Add(off).UTC() }
