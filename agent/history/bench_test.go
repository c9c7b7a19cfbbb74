package history

import (
	"github.com/vpnpass/vpnpass/vpn"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkAppend measures the append rate with batching (default options,
// 512 KiB cap, so pruning runs too): b.N events, then one Flush.
func BenchmarkAppend(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "h.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ev := Event{Kind: KindVPNFinding, Severity: vpn.SeverityWarning, Protocol: "ipsec", Host: "192.168.1.10",
		Peer: "203.0.113.10", Message: "UDP 4500 never answered: NAT-T is blocked between this router and the server",
		Details: map[string]any{"code": "natt-blocked"}}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := s.Append(&ev); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	st := s.Stats()
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/float64(max(st.Commits, 1)), "events/commit")
}

// BenchmarkQueryLast100 measures reading the newest 100 events of a full
// 512 KiB history.
func BenchmarkQueryLast100(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "h.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fill(b, s, 5000, 1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		evs, err := s.Query(Filter{Limit: 100})
		if err != nil || len(evs) != 100 {
			b.Fatal(len(evs), err)
		}
	}
}

// BenchmarkCap1M appends one million events to a history capped at 512 KiB
// (flushing every 10,000) and reports the largest file size seen after a
// flush and the final one. Run it with -benchtime=1x.
func BenchmarkCap1M(b *testing.B) {
	for i := 0; i < b.N; i++ {
		path := filepath.Join(b.TempDir(), "h.db")
		s, err := Open(path, Options{MaxBytes: 512 << 10})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		maxSize := fill(b, s, 1_000_000, 10_000)
		el := time.Since(start)
		st := s.Stats()
		s.Close()
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		if maxSize > 512<<10 || fi.Size() > 512<<10 {
			b.Fatalf("cap broken: max %d final %d", maxSize, fi.Size())
		}
		b.ReportMetric(float64(maxSize), "max-file-bytes")
		b.ReportMetric(float64(fi.Size()), "final-file-bytes")
		b.ReportMetric(float64(st.Compactions), "compactions")
		b.ReportMetric(float64(st.Committed-st.Pruned), "events-kept")
		b.ReportMetric(1e6/el.Seconds(), "events/s")
	}
}

// BenchmarkQueryJSONLast100 is BenchmarkQueryLast100 for the API's path.
func BenchmarkQueryJSONLast100(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "h.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fill(b, s, 5000, 1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		evs, err := s.QueryJSON(Filter{Limit: 100})
		if err != nil || len(evs) != 100 {
			b.Fatal(len(evs), err)
		}
	}
}
