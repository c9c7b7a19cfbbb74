package history

import (
	"fmt"
	"github.com/vpnpass/vpnpass/vpn"
	"os"
	"path/filepath"
	"testing"
)

// fill appends n realistic events in bursts of burst, flushing after each,
// and returns the largest file size seen after a flush.
func fill(tb testing.TB, s *Store, n, burst int) int64 {
	tb.Helper()
	var maxSize int64
	for i := 0; i < n; i++ {
		err := s.Append(&Event{
			Kind: KindVPNFinding, Severity: vpn.SeverityWarning, Protocol: "ipsec",
			Host: "192.168.1.10", Peer: "203.0.113.10",
			Message: fmt.Sprintf("UDP 4500 never answered (session %d): NAT-T is blocked between this router and the server", i),
			Details: map[string]any{"code": "natt-blocked", "port": 4500, "n": i},
		})
		if err != nil {
			tb.Fatal(err)
		}
		if (i+1)%burst == 0 || i == n-1 {
			if err := s.Flush(); err != nil {
				tb.Fatal(err)
			}
			fi, err := os.Stat(s.Path())
			if err != nil {
				tb.Fatal(err)
			}
			maxSize = max(maxSize, fi.Size())
		}
	}
	return maxSize
}

// TestCapHolds appends far more than the cap holds and checks the file size
// after every flush, for a small and the default cap.
func TestCapHolds(t *testing.T) {
	for _, tc := range []struct {
		maxBytes int64
		events   int
		burst    int
	}{
		{64 << 10, 5000, 37},
		{512 << 10, 40000, 500},
		{600 << 10, 20000, 2000}, // not a power of two: bbolt's file sizes are
	} {
		t.Run(fmt.Sprint(tc.maxBytes>>10, "KiB"), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "h.db")
			s := openT(t, path, Options{MaxBytes: tc.maxBytes})
			maxSize := fill(t, s, tc.events, tc.burst)
			st := s.Stats()
			t.Logf("cap %d: max file size after a flush %d, stats %+v", tc.maxBytes, maxSize, st)
			if maxSize > tc.maxBytes {
				t.Fatalf("file reached %d bytes, cap %d", maxSize, tc.maxBytes)
			}
			// The newest events are all there, in order, and the oldest went.
			evs, err := s.Query(Filter{Limit: 50})
			if err != nil || len(evs) != 50 || evs[0].Seq != uint64(tc.events) || evs[49].Seq != uint64(tc.events-49) {
				t.Fatalf("newest events: %v %v", seqs(evs), err)
			}
			if st.Pruned == 0 || st.Committed != int64(tc.events) {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}
