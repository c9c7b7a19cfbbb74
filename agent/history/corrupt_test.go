package history

import (
	"bytes"
	"errors"
	"github.com/vpnpass/vpnpass/vpn"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// makeHistory writes n events and returns the file's bytes and bbolt's
// high-water mark (the bytes its pages need).
func makeHistory(t *testing.T, path string, n int) ([]byte, int64) {
	t.Helper()
	s, err := Open(path, Options{MaxBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, s, n, 100)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var hwm int64
	db.View(func(tx *bolt.Tx) error { hwm = tx.Size(); return nil })
	db.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b, hwm
}

// TestCorruptFileIsMovedAside damages a history in many ways. Open must never
// fail or crash: either the file is still sound and every event is there, or
// it is moved aside byte for byte and a fresh history starts with a
// history.reset error event.
func TestCorruptFileIsMovedAside(t *testing.T) {
	dir := t.TempDir()
	good, hwm := makeHistory(t, filepath.Join(dir, "good.db"), 2000)
	rng := rand.New(rand.NewSource(1))
	random := make([]byte, 64<<10)
	rng.Read(random)
	flipped := bytes.Clone(good)
	for i := 2 * 4096; i < len(flipped); i += 97 { // damage data pages, keep the meta pages
		flipped[i] ^= 0xff
	}
	cases := []struct {
		name      string
		content   []byte
		mustReset bool
	}{
		{"zero length", nil, true},
		{"10 bytes", good[:10], true},
		{"one page", good[:4096], true},
		{"two pages", good[:8192], true},
		{"odd size", good[:12345], true},
		{"half", good[:hwm/2], true},
		{"one byte short of the pages", good[:hwm-1], true},
		{"cut at the high-water mark", good[:hwm], false},
		{"random bytes", random, true},
		{"text", []byte(strings.Repeat("not a database\n", 1000)), true},
		{"data pages flipped", flipped, true},
		{"meta pages zeroed", append(make([]byte, 8192), good[8192:]...), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "history.db")
			if err := os.WriteFile(path, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatalf("Open must recover, got %v", err)
			}
			defer s.Close()
			evs, err := s.Query(Filter{Limit: 5000})
			if err != nil {
				t.Fatal(err)
			}
			if s.Reset() == nil {
				if tc.mustReset {
					t.Fatal("damage not detected")
				}
				if len(evs) != 2000 {
					t.Fatalf("sound file lost events: %d left", len(evs))
				}
				return
			}
			r := s.Reset()
			moved, err := os.ReadFile(r.MovedTo)
			if err != nil || !bytes.Equal(moved, tc.content) {
				t.Fatalf("moved-aside file %s differs (%v)", r.MovedTo, err)
			}
			if !strings.HasPrefix(filepath.Base(r.MovedTo), "history.db.corrupt-") || strings.ContainsAny(filepath.Base(r.MovedTo), ": ") {
				t.Fatalf("moved to %s", r.MovedTo)
			}
			if len(evs) != 1 || evs[0].Kind != KindHistoryReset || evs[0].Severity != vpn.SeverityError ||
				evs[0].Details["moved_to"] != r.MovedTo || !strings.Contains(evs[0].Message, r.Reason) {
				t.Fatalf("want one history.reset event, got %+v", evs)
			}
			t.Logf("reason: %s", r.Reason)
			// The new history works.
			mustAppend(t, s, Event{Kind: KindAgentStarted})
			if evs, _ := s.Query(Filter{}); len(evs) != 2 {
				t.Fatalf("after reset: %d events", len(evs))
			}
		})
	}
}

func TestOpenReadOnlyCorruptLeavesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	content := []byte(strings.Repeat("x", 10000))
	os.WriteFile(path, content, 0o600)
	if _, err := OpenReadOnly(path); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v", err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, content) {
		t.Fatal("read-only open touched the file")
	}
}

func TestOnlyNewestCorruptFilesKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "h.db")
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < keepCorrupt+2; i++ {
		os.WriteFile(path, []byte("garbage"), 0o600)
		s, err := Open(path, Options{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		os.Remove(path)
		now = now.Add(time.Second)
	}
	left, _ := filepath.Glob(path + ".corrupt-*")
	if len(left) != keepCorrupt || filepath.Base(left[len(left)-1]) != "h.db.corrupt-20250101T000004Z" {
		t.Fatalf("left %v", left)
	}
}

func TestLeftoverCompactFileRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	os.WriteFile(compactPath(path), []byte("half-written compaction"), 0o600)
	s := openT(t, path, Options{})
	mustAppend(t, s, Event{Kind: KindAgentStarted})
	if _, err := os.Stat(compactPath(path)); !os.IsNotExist(err) {
		t.Fatal("leftover .compact file not removed")
	}
}
