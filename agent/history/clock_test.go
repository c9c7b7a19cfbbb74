package history

import (
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"
)

// monoClock is an injected monotonic clock.
type monoClock struct {
	mu sync.Mutex
	d  time.Duration
}

func (m *monoClock) Elapsed() time.Duration { m.mu.Lock(); defer m.mu.Unlock(); return m.d }
func (m *monoClock) Add(d time.Duration)    { m.mu.Lock(); m.d += d; m.mu.Unlock() }

// TestClockSteps: a router boots with its clock years behind, records
// events, and NTP steps the clock forward; later it is stepped back an
// hour. The boot's events are neither pruned as years old nor left
// years in the past: they move with the step, --since finds them, and
// order stays by seq. Records of an earlier run keep their times.
func TestClockSteps(t *testing.T) {
	firmware := time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)
	real := time.Date(2026, 12, 5, 23, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "h.db")
	earlier := openT(t, path, Options{Now: (&clock{t: real.Add(-48 * time.Hour)}).Now})
	mustAppend(t, earlier, Event{Kind: KindAgentStopped, Message: "previous boot"})
	earlier.Close()

	wall, mono := &clock{t: firmware}, &monoClock{}
	s := openT(t, path, Options{Now: wall.Now, Elapsed: mono.Elapsed, MaxAge: 30 * 24 * time.Hour})
	mustAppend(t, s, Event{Kind: KindAgentStarted, Message: "boot"})
	mono.Add(20 * time.Second)
	wall.Add(20 * time.Second)
	if err := s.Append(&Event{Kind: KindWANChanged, Message: "wan up"}); err != nil { // pending when the clock steps
		t.Fatal(err)
	}
	mono.Add(time.Second)
	wall.t = real // NTP sync: years forward
	mustAppend(t, s, Event{Kind: KindNATChanged, Message: "after sync"})

	evs, err := s.Query(Filter{Since: real.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]time.Time{}
	for _, e := range evs {
		got[e.Message] = e.Time
	}
	want := map[string]time.Time{"boot": real.Add(-21 * time.Second), "wan up": real.Add(-time.Second), "after sync": real}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after the step forward: %v, want %v", got, want)
	}
	if all, _ := s.Query(Filter{}); !reflect.DeepEqual(seqs(all), []uint64{4, 3, 2, 1}) || all[3].Message != "previous boot" ||
		!all[3].Time.Equal(real.Add(-48*time.Hour)) {
		t.Fatalf("order or the earlier run's record changed: %+v", all)
	}

	mono.Add(time.Minute)
	wall.t = real.Add(time.Minute - time.Hour) // stepped back an hour
	mustAppend(t, s, Event{Kind: KindWANChanged, Message: "after step back"})
	evs, _ = s.Query(Filter{Since: real.Add(-time.Hour - time.Minute)})
	if len(evs) != 4 || !evs[3].Time.Equal(real.Add(-21*time.Second-time.Hour)) || s.Stats().ClockSteps != 2 || s.Stats().Pruned != 0 {
		t.Fatalf("after the step back: %+v, stats %+v", evs, s.Stats())
	}
}
