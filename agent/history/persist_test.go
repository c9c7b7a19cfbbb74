package history

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func all(t *testing.T, s *Store) []Event {
	t.Helper()
	evs, err := s.Query(Filter{Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestRebootKeepsEveryEvent: a copy saved at stop, the live file deleted (a
// reboot empties tmpfs), restored at start: every event is back, in order.
func TestRebootKeepsEveryEvent(t *testing.T) {
	dir := t.TempDir()
	live, saved := filepath.Join(dir, "run/history.db"), filepath.Join(dir, "flash/vpnpass/history.db")
	s := openT(t, live, Options{})
	fill(t, s, 500, 50)
	before := all(t, s)
	if err := s.Persist(saved); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Remove(live); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(live, saved, time.Now())
	if err != nil || r.From != saved || r.Reset != nil {
		t.Fatalf("Restore = %+v, %v; want restored from %s", r, err, saved)
	}
	s2 := openT(t, live, Options{})
	if after := all(t, s2); !reflect.DeepEqual(after, before) || len(after) != 500 {
		t.Fatalf("after the reboot %d events, before %d (or they differ)", len(after), len(before))
	}
	if _, err := os.Stat(saved + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("the temporary copy is left behind: %v", err)
	}
}

// TestRestoreKeepsLiveFile: a live history (agent restart, no reboot) is
// newer than any copy and is never replaced.
func TestRestoreKeepsLiveFile(t *testing.T) {
	dir := t.TempDir()
	live, saved := filepath.Join(dir, "history.db"), filepath.Join(dir, "saved.db")
	s := openT(t, live, Options{})
	fill(t, s, 10, 10)
	if err := s.Persist(saved); err != nil {
		t.Fatal(err)
	}
	fill(t, s, 5, 5)
	s.Close()
	if r, err := Restore(live, saved, time.Now()); err != nil || r.From != "" || r.Reset != nil {
		t.Fatalf("Restore over a live file = %+v, %v; want nothing done", r, err)
	}
	if n := len(all(t, openT(t, live, Options{}))); n != 15 {
		t.Errorf("live history has %d events, want its own 15", n)
	}
}

// TestRestoreCorruptCopy: a damaged copy on flash is moved aside byte for
// byte, not fatal; the history starts empty.
func TestRestoreCorruptCopy(t *testing.T) {
	for name, content := range map[string][]byte{
		"empty":     {},
		"text":      []byte("not a bbolt file\n"),
		"truncated": nil, // filled below
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			live, saved := filepath.Join(dir, "history.db"), filepath.Join(dir, "etc/history.db")
			if content == nil {
				good, _ := makeHistory(t, filepath.Join(dir, "good.db"), 300)
				content = good[:len(good)/2]
			}
			os.MkdirAll(filepath.Dir(saved), 0o700)
			if err := os.WriteFile(saved, content, 0o600); err != nil {
				t.Fatal(err)
			}
			r, err := Restore(live, saved, time.Now())
			if err != nil || r.Reset == nil || r.From != "" {
				t.Fatalf("Restore = %+v, %v; want the copy moved aside", r, err)
			}
			if !strings.HasPrefix(r.Reset.MovedTo, saved+".corrupt-") {
				t.Errorf("moved to %s", r.Reset.MovedTo)
			}
			if b, err := os.ReadFile(r.Reset.MovedTo); err != nil || !bytes.Equal(b, content) {
				t.Errorf("moved-aside copy differs from the corrupt one (%v)", err)
			}
			if _, err := os.Stat(saved); !os.IsNotExist(err) {
				t.Errorf("corrupt copy still at %s", saved)
			}
			if n := len(all(t, openT(t, live, Options{}))); n != 0 {
				t.Errorf("fresh history has %d events", n)
			}
		})
	}
}

// TestPersisterInterval: copies at most every interval and only when events
// were added; every <= 0 never writes, not even at stop.
func TestPersisterInterval(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, filepath.Join(dir, "history.db"), Options{})
	saved := filepath.Join(dir, "flash/history.db")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := NewPersister(s, saved, t0)
	const every = 6 * time.Hour
	steps := []struct {
		at    time.Duration
		add   int
		final bool
		want  bool
	}{
		{at: time.Hour, add: 3, want: false},                  // not due yet
		{at: 6 * time.Hour, want: true},                       // due, 3 new events
		{at: 7 * time.Hour, add: 1, want: false},              // due only at 12 h
		{at: 12 * time.Hour, want: true},                      // the 1 new event
		{at: 18 * time.Hour, want: false},                     // due, nothing new: no flash write
		{at: 19 * time.Hour, add: 2, final: true, want: true}, // clean stop
		{at: 20 * time.Hour, final: true, want: false},        // stop again, nothing new
	}
	for i, st := range steps {
		fill(t, s, st.add, 1)
		now := t0.Add(st.at)
		var got bool
		var err error
		if st.final {
			got, err = p.Final(now, every)
		} else {
			got, err = p.Tick(now, every)
		}
		if err != nil || got != st.want {
			t.Fatalf("step %d (%v): saved=%v err=%v, want saved=%v", i, st.at, got, err, st.want)
		}
	}
	r, err := OpenReadOnly(saved)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n := len(all(t, r)); n != 6 {
		t.Errorf("the copy holds %d events, want all 6", n)
	}

	off := NewPersister(s, filepath.Join(dir, "off/history.db"), t0)
	fill(t, s, 1, 1)
	for _, save := range []func() (bool, error){
		func() (bool, error) { return off.Tick(t0.Add(1000*time.Hour), 0) },
		func() (bool, error) { return off.Final(t0.Add(1000*time.Hour), 0) },
	} {
		if got, err := save(); got || err != nil {
			t.Errorf("history_persist_hours 0 saved=%v err=%v", got, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "off")); !os.IsNotExist(err) {
		t.Errorf("persistence off, yet something was written: %v", err)
	}
}
