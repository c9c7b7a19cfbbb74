//go:build unix

package runlock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Lock is a held run lock.
type Lock struct{ f *os.File }

// Acquire takes the lock at path, waiting up to wait for its holder to exit
// (procd SIGKILLs an agent 5 s after SIGTERM). It writes the caller's pid into
// the file so that a waiter can name the holder. The file itself is never
// removed: unlinking a lock file others may have open splits the lock.
func Acquire(path string, wait time.Duration) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("run lock directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open run lock: %w", err)
	}
	deadline := time.Now().Add(wait)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			pid := holder(f)
			f.Close()
			return nil, &HeldError{Path: path, PID: pid}
		}
		time.Sleep(poll)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// AcquireIfExists is Acquire for those who only remove (cleanup): when the
// lock file does not exist no agent has run against this socket since boot
// (/var/run is tmpfs), so there is nothing to wait for and nothing is created.
func AcquireIfExists(path string, wait time.Duration) (*Lock, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return Acquire(path, wait)
}

func holder(f *os.File) int {
	b := make([]byte, 16)
	n, _ := f.ReadAt(b, 0)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	return pid
}

// Release drops the lock (process exit drops it too).
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
