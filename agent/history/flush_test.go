package history

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestFlushUnderSustainedAppend: Flush commits what was appended before it
// and returns, even while other goroutines keep the queue full (an event
// storm must not hang the API's history call, which flushes first).
func TestFlushUnderSustainedAppend(t *testing.T) {
	// A cap far above what the storm writes during the test: nothing this
	// test checks for can be pruned.
	s, err := Open(filepath.Join(t.TempDir(), "h.db"), Options{MaxBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					s.Append(&Event{Kind: KindVPNFinding, Message: "storm"})
				}
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
		s.Close()
	}()
	time.Sleep(100 * time.Millisecond) // the queue is full by now
	for i := 0; i < 3; i++ {
		mine := fmt.Sprintf("mine-%d", i)
		if err := s.Append(&Event{Kind: KindError, Message: mine}); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Flush() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(20 * time.Second): // a hang, not a speed limit
			t.Fatal("Flush did not return while appends continued")
		}
		evs, err := s.Query(Filter{Kind: KindError, Limit: 10})
		if err != nil || len(evs) != i+1 || evs[0].Message != mine {
			t.Fatalf("after Flush: %+v (%v), want %s newest of %d", evs, err, mine, i+1)
		}
	}
}
