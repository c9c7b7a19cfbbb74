package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/vpnpass/vpnpass/vpn"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func openT(t *testing.T, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustAppend(t *testing.T, s *Store, evs ...Event) {
	t.Helper()
	for _, ev := range evs {
		if err := s.Append(&ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
}

func seqs(evs []Event) []uint64 {
	out := []uint64{}
	for _, e := range evs {
		out = append(out, e.Seq)
	}
	return out
}

func TestAppendQueryFilter(t *testing.T) {
	clk := &clock{t: t0}
	s := openT(t, filepath.Join(t.TempDir(), "h.db"), Options{Now: clk.Now, BatchWindow: time.Hour})
	kinds := []string{KindAgentStarted, KindVPNFinding, KindNATChanged, KindVPNFinding, KindPassthroughChanged,
		KindVPNFinding, KindError, KindWANChanged, KindVPNFinding, KindAgentStopped}
	for i, k := range kinds {
		clk.Add(time.Minute)
		proto := map[int]vpn.Protocol{2: vpn.IPsec, 4: vpn.PPTP, 6: vpn.IPsec, 9: vpn.PPTP}[i+1]
		if err := s.Append(&Event{Kind: k, Protocol: string(proto), Message: fmt.Sprint("event ", i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	// With an hour-long batch window nothing is committed before Flush.
	if evs, err := s.Query(Filter{}); err != nil || len(evs) != 0 {
		t.Fatalf("before flush: %v %v", evs, err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		filter Filter
		want   []uint64
	}{
		{"all newest first", Filter{}, []uint64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{"limit", Filter{Limit: 3}, []uint64{10, 9, 8}},
		{"exact kind", Filter{Kind: KindVPNFinding}, []uint64{9, 6, 4, 2}},
		{"prefix", Filter{Kind: "agent."}, []uint64{10, 1}},
		{"kind is not a prefix without dot", Filter{Kind: "agent"}, []uint64{}},
		{"since", Filter{Since: t0.Add(8 * time.Minute)}, []uint64{10, 9, 8}},
		{"since and kind and limit", Filter{Since: t0.Add(3 * time.Minute), Kind: "vpn.", Limit: 2}, []uint64{9, 6}},
		{"since after all", Filter{Since: t0.Add(time.Hour)}, []uint64{}},
		{"until", Filter{Until: t0.Add(3 * time.Minute)}, []uint64{3, 2, 1}},
		{"time range", Filter{Since: t0.Add(4 * time.Minute), Until: t0.Add(6 * time.Minute)}, []uint64{6, 5, 4}},
		{"page after 7", Filter{Before: 7, Limit: 3}, []uint64{6, 5, 4}},
		{"page after the newest", Filter{Before: 11}, []uint64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{"page after a gap", Filter{Before: 100, Limit: 1}, []uint64{10}},
		{"last page", Filter{Before: 1}, []uint64{}},
		{"protocol", Filter{Protocol: "pptp"}, []uint64{9, 4}},
		{"protocol, kind and page", Filter{Protocol: "ipsec", Kind: "vpn.", Before: 6}, []uint64{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := s.Query(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if got := seqs(evs); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v want %v", got, tt.want)
			}
		})
	}
}

func TestDefaultLimit(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "h.db"), Options{})
	for i := 0; i < 60; i++ {
		s.Append(&Event{Kind: KindVPNFinding, Message: "x"})
	}
	s.Flush()
	evs, _ := s.Query(Filter{})
	if len(evs) != DefaultLimit || evs[0].Seq != 60 || evs[49].Seq != 11 {
		t.Fatalf("got %d events, first %d", len(evs), evs[0].Seq)
	}
}

// TestEventJSON pins the JSON shape of the Event (docs/interface.md#history).
func TestEventJSON(t *testing.T) {
	clk := &clock{t: time.Date(2025, 3, 1, 21, 4, 5, 0, time.FixedZone("JST", 9*3600))}
	s := openT(t, filepath.Join(t.TempDir(), "h.db"), Options{Now: clk.Now})
	mustAppend(t, s, Event{Kind: KindVPNFinding, Severity: vpn.SeverityWarning, Protocol: "ipsec",
		Host: "192.168.1.10", Peer: "203.0.113.10", Message: "UDP 4500 never answered",
		Details: map[string]any{"code": "natt-blocked", "port": 4500}})
	mustAppend(t, s, Event{Kind: KindAgentStarted, Message: "started"})
	evs, _ := s.Query(Filter{})
	got, _ := json.Marshal(evs)
	want := `[{"seq":2,"time":"2025-03-01T12:04:05Z","kind":"agent.started","severity":"info","message":"started"},` +
		`{"seq":1,"time":"2025-03-01T12:04:05Z","kind":"vpn.finding","severity":"warning","protocol":"ipsec",` +
		`"host":"192.168.1.10","peer":"203.0.113.10","message":"UDP 4500 never answered","details":{"code":"natt-blocked","port":4500}}]`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestBatchWindowCommitsWithoutFlush(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "h.db"), Options{BatchWindow: 10 * time.Millisecond})
	s.Append(&Event{Kind: KindError, Message: "x"})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if evs, _ := s.Query(Filter{}); len(evs) == 1 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("event never committed by the batch window")
}

func TestAppendValidation(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "h.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(&Event{Message: "no kind"}); err == nil {
		t.Fatal("want error for an event without kind")
	}
	s.Close()
	if err := s.Append(&Event{Kind: KindError}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if err := s.Flush(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Close: %v", err)
	}
}

func TestHugeEventIsTruncated(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "h.db"), Options{MaxBytes: 64 << 10})
	mustAppend(t, s, Event{Kind: KindError, Message: "small"})
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = 'x'
	}
	mustAppend(t, s, Event{Kind: KindError, Message: string(big), Details: map[string]any{"a": 1}})
	evs, _ := s.Query(Filter{})
	if len(evs) != 2 || len(evs[0].Message) > 1<<10 || evs[0].Details["truncated"] != true || evs[1].Message != "small" {
		t.Fatalf("got %d events, first message %d bytes", len(evs), len(evs[0].Message))
	}
}

func TestAgePrune(t *testing.T) {
	clk := &clock{t: t0}
	path := filepath.Join(t.TempDir(), "h.db")
	s := openT(t, path, Options{Now: clk.Now, MaxAge: 30 * 24 * time.Hour})
	for i := 0; i < 5; i++ {
		mustAppend(t, s, Event{Kind: KindWANChanged, Message: "old"})
		clk.Add(24 * time.Hour)
	}
	clk.Add(27 * 24 * time.Hour) // the first two events are now over 30 days old
	mustAppend(t, s, Event{Kind: KindWANChanged, Message: "new"})
	evs, _ := s.Query(Filter{})
	if got := seqs(evs); !reflect.DeepEqual(got, []uint64{6, 5, 4, 3}) {
		t.Fatalf("got %v", got)
	}
	if s.Stats().Pruned != 2 {
		t.Fatalf("stats %+v", s.Stats())
	}
}

func TestSeqSurvivesReopenAndCompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(path, Options{MaxBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3000; i++ { // far more than 64 KiB: prunes and compacts
		s.Append(&Event{Kind: KindVPNFinding, Message: fmt.Sprintf("event %d with some words in it", i)})
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	s.Close()
	s = openT(t, path, Options{MaxBytes: 64 << 10})
	mustAppend(t, s, Event{Kind: KindAgentStarted})
	evs, _ := s.Query(Filter{Limit: 2})
	if len(evs) != 2 || evs[0].Seq != 3001 || evs[1].Seq != 3000 {
		t.Fatalf("seqs after reopen %v (stats %+v)", seqs(evs), st)
	}
	t.Logf("stats after 3000 events in 64 KiB: %+v", st)
}

func TestOpenReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	if _, err := OpenReadOnly(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	s, err := Open(path, Options{LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, Event{Kind: KindAgentStarted}, Event{Kind: KindAgentStopped})
	// While the daemon holds the file, both opens fail clearly and nothing moves.
	if _, err := OpenReadOnly(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("read-only open of a locked file: %v", err)
	}
	if _, err := Open(path, Options{LockTimeout: 50 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v", err)
	}
	if left, _ := filepath.Glob(path + ".corrupt-*"); len(left) != 0 {
		t.Fatalf("a locked file was moved aside: %v", left)
	}
	s.Close()
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	evs, err := ro.Query(Filter{})
	if err != nil || !reflect.DeepEqual(seqs(evs), []uint64{2, 1}) {
		t.Fatalf("%v %v", seqs(evs), err)
	}
	if err := ro.Append(&Event{Kind: KindError}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("append read-only: %v", err)
	}
}

func TestConcurrentAppendAndQuery(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "h.db"), Options{MaxBytes: 64 << 10, BatchWindow: time.Millisecond})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				s.Append(&Event{Kind: KindVPNFinding, Message: "concurrent"})
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				evs, err := s.Query(Filter{Limit: 10})
				if err != nil {
					t.Error(err)
					return
				}
				for j := 1; j < len(evs); j++ {
					if evs[j].Seq >= evs[j-1].Seq {
						t.Errorf("not newest first: %v", seqs(evs))
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Committed != 2000 || st.FileBytes > 64<<10 {
		t.Fatalf("stats %+v", st)
	}
}

func TestMissingDirectoryCreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "var", "lib", "vpnpass", "history.db")
	s := openT(t, path, Options{})
	mustAppend(t, s, Event{Kind: KindAgentStarted})
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

// TestQueryJSONMatchesQuery: the raw JSON the API serves is the encoding of
// the events Query decodes.
func TestQueryJSONMatchesQuery(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "h.db"), Options{})
	fill(t, s, 300, 50)
	evs, err := s.Query(Filter{Kind: "vpn.", Limit: 120})
	if err != nil {
		t.Fatal(err)
	}
	raws, err := s.QueryJSON(Filter{Kind: "vpn.", Limit: 120})
	if err != nil || len(raws) != len(evs) || len(evs) != 120 {
		t.Fatalf("%d vs %d (%v)", len(raws), len(evs), err)
	}
	for i := range evs {
		want, _ := json.Marshal(evs[i])
		if string(raws[i]) != string(want) {
			t.Fatalf("event %d:\n%s\n%s", i, raws[i], want)
		}
	}
}
