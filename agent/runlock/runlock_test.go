//go:build unix

package runlock

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestAcquireWaitsForHolder: a second taker waits while the lock is held,
// names the holder when the wait runs out, and gets the lock as soon as the
// holder lets go (flock locks are per open file, so one process can test it).
func TestAcquireWaitsForHolder(t *testing.T) {
	path := PathFor(filepath.Join(t.TempDir(), "run", "vpnpass.sock"))
	first, err := Acquire(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Acquire(path, 150*time.Millisecond)
	var held *HeldError
	if !errors.As(err, &held) || !errors.Is(err, ErrHeld) || held.PID != os.Getpid() {
		t.Fatalf("second Acquire while held = %v, want a HeldError naming pid %d", err, os.Getpid())
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Errorf("gave up after %v, before its wait of 150ms", waited)
	}
	go func() { time.Sleep(100 * time.Millisecond); first.Release() }()
	second, err := Acquire(path, 5*time.Second)
	if err != nil {
		t.Fatalf("Acquire after the holder released: %v", err)
	}
	if err := second.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the lock file must stay (unlinking splits the lock): %v", err)
	}
}
