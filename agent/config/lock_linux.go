package config

import (
	"fmt"
	"os"
	"syscall"
)

// lockConfig takes the lock libuci takes to commit a package: flock(LOCK_EX)
// on the config file itself (uci_open_stream), so our write and a `uci
// commit` (LuCI's apply, a shell script) never interleave. A commit renames
// a new file over the path: after waiting, the lock may sit on the old
// inode, so it is taken again until it holds the file the path names. A
// missing file is created empty first, as `uci commit` does.
func lockConfig(path string) (unlock func(), err error) {
	for i := 0; i < 10; i++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		held, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return func() { f.Close() }, nil // closing releases the lock
		}
		f.Close()
	}
	return nil, fmt.Errorf("lock %s: the file keeps being replaced", path)
}
