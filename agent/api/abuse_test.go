package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	json "github.com/vpnpass/vpnpass/internal/jsonx"
)

// TestDeepNestingRefused: a request nested past MaxDepth is refused before
// it is decoded; a request at the limit is served.
func TestDeepNestingRefused(t *testing.T) {
	_, path := newTestServer(t, nil)
	rc := dialRaw(t, path)
	deep := `{"method":"echo","params":{"a":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}}`
	if got := rc.roundTrip(deep); !strings.Contains(got, `"bad_request"`) || !strings.Contains(got, "nested deeper than 32") {
		t.Fatalf("got %.200q", got)
	}
	ok := `{"method":"echo","params":{"a":` + strings.Repeat("[", MaxDepth-2) + strings.Repeat("]", MaxDepth-2) + `,"s":"[[[[{{{{"}}`
	if got := rc.roundTrip(ok); !strings.HasPrefix(got, `{"result"`) {
		t.Fatalf("at the limit: %.200q", got)
	}
}

// TestAbuse: 10,000 connections held open without a word, slow clients
// trickling bytes, 1 MiB request lines and deeply nested requests, all at
// once, while a normal client keeps calling. Every normal call is served;
// the server holds at most MaxConns connections and goroutines stay
// bounded whatever the number of hostile connections. The figures
// (latency of the normal client, heap and goroutines) are logged.
func TestAbuse(t *testing.T) {
	if testing.Short() {
		t.Skip("abuse run")
	}
	s, path := newTestServer(t, nil)
	s.Handle("status", func(context.Context, json.RawMessage) (any, error) {
		return map[string]any{"enabled": true, "modes": map[string]string{"pptp": "allow"}}, nil
	})
	normal := func(n int) (lat []time.Duration, failures []error) {
		c, err := Dial(path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for i := 0; i < n; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			start := time.Now()
			if err := c.Call(ctx, "status", nil, nil); err != nil {
				failures = append(failures, err)
			}
			lat = append(lat, time.Since(start))
			cancel()
		}
		return lat, failures
	}
	quiet, _ := normal(200)
	base := runtime.NumGoroutine()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	baseHeap := ms.HeapInuse

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var peakHeap, peakG, peakConns, peakLive atomic.Int64
	wg.Add(1)
	go func() { // sampler
		defer wg.Done()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			peakHeap.Store(max(peakHeap.Load(), int64(m.HeapInuse)))
			peakG.Store(max(peakG.Load(), int64(runtime.NumGoroutine())))
			s.mu.Lock()
			peakConns.Store(max(peakConns.Load(), int64(len(s.conns))))
			peakLive.Store(max(peakLive.Load(), int64(s.live)))
			s.mu.Unlock()
		}
	}()
	hostile := 1 // the sampler
	// Slow clients: one byte every 50 ms of a request that never ends.
	for i := 0; i < 50; i++ {
		hostile++
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("unix", path)
			if err != nil {
				return
			}
			defer c.Close()
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				if _, err := c.Write([]byte("{")); err != nil {
					return
				}
			}
		}()
	}
	// 1 MiB lines and nesting deeper than encoding/json's own limit.
	big := append(append([]byte(`{"method":"status","params":{"a":"`), bytes.Repeat([]byte("x"), 1<<20)...), "\"}}\n"...)
	deep := []byte(`{"method":"status","params":{"a":` + strings.Repeat("[", 20000) + "\n")
	for _, line := range [][]byte{big, deep} {
		for i := 0; i < 10; i++ {
			hostile++
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					c, err := net.Dial("unix", path)
					if err != nil {
						time.Sleep(10 * time.Millisecond)
						continue
					}
					c.SetDeadline(time.Now().Add(2 * time.Second))
					c.Write(line)
					io.Copy(io.Discard, c)
					c.Close()
				}
			}()
		}
	}
	// 10,000 silent connections, all held open.
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	floodDone := make(chan int)
	go func() {
		again := 0
		for len(held) < 10000 {
			c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
			if errors.Is(err, syscall.EAGAIN) { // backlog full: wait for the accept loop
				again++
				time.Sleep(time.Millisecond)
				continue
			}
			if err != nil {
				t.Errorf("flood dial %d: %v", len(held), err)
				break
			}
			held = append(held, c)
		}
		floodDone <- again
	}()
	underAbuse, failures := normal(200)
	again := <-floodDone
	more, f2 := normal(100) // once all 10,000 are open
	underAbuse, failures = append(underAbuse, more...), append(failures, f2...)
	close(stop)
	wg.Wait()
	for _, err := range failures {
		t.Errorf("normal client failed under abuse: %v", err)
	}
	if got := peakConns.Load(); got > DefaultMaxConns {
		t.Errorf("server held %d connections, more than MaxConns %d", got, DefaultMaxConns)
	}
	// Server goroutines: the accept loop and at most 2*MaxConns serving
	// connections (evicted ones may still be ending); the client's
	// context AfterFunc and timers add a few.
	if limit := int64(base + hostile + 2*DefaultMaxConns + 5); peakG.Load() > limit {
		t.Errorf("%d goroutines at the peak, over %d (hostile conns: %d)", peakG.Load(), limit, len(held))
	}
	t.Logf("10,000 silent + 50 slow + 1 MiB and 20,000-deep lines (%d dials waited on a full backlog)", again)
	t.Logf("normal client: quiet p50 %v p99 %v; under abuse p50 %v p99 %v max %v (%d calls, %d failed)",
		pct(quiet, 50), pct(quiet, 99), pct(underAbuse, 50), pct(underAbuse, 99), pct(underAbuse, 100), len(underAbuse), len(failures))
	if got := peakLive.Load(); got > 2*DefaultMaxConns {
		t.Errorf("%d connection goroutines, over 2*MaxConns", got)
	}
	t.Logf("peak: %d server connections (%d goroutines), %d goroutines in all (%d before, %d hostile client goroutines), heap in use +%.1f MiB, VmHWM %s",
		peakConns.Load(), peakLive.Load(), peakG.Load(), base, hostile, float64(peakHeap.Load()-int64(baseHeap))/(1<<20), vmHWM())
}

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, len(s)*p/100)]
}

func vmHWM() string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "?"
}
