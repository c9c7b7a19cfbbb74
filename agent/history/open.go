package history

import (
	"errors"
	"fmt"
	"github.com/vpnpass/vpnpass/internal/slicex"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vpnpass/vpnpass/internal/errx"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// corruptError marks a file that is not a sound history: Open moves it aside.
type corruptError struct{ err error }

func (e *corruptError) Error() string { return e.err.Error() }
func (e *corruptError) Unwrap() error { return e.err }

func corrupt(format string, args ...any) error {
	return &corruptError{fmt.Errorf(format, args...)}
}

func isCorruption(err error) bool {
	_, ok := errx.As[*corruptError](err)
	return ok
}

// environmental errors say nothing about the file's content: moving the file
// aside would lose history for nothing.
func environmental(err error) bool {
	for _, target := range []error{
		fs.ErrPermission, fs.ErrNotExist, syscall.ENOSPC, syscall.EROFS, syscall.EMFILE,
		syscall.ENFILE, syscall.ENOMEM, syscall.EISDIR, syscall.ENOTDIR, syscall.EINTR,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// openChecked opens the bbolt file and reads every record once, so that a
// damaged file is found now (and moved aside) rather than crashing the daemon
// later. It returns the bytes the records take.
func openChecked(path string, lockTimeout time.Duration, readOnly bool) (*bolt.DB, int64, error) {
	if fi, err := os.Stat(path); err == nil && fi.Size() == 0 {
		return nil, 0, corrupt("the file is empty (0 bytes)")
	}
	db, err := openBolt(path, lockTimeout, readOnly)
	if err != nil {
		return nil, 0, err
	}
	data, err := check(db)
	if err != nil {
		closeQuietly(db)
		if _, ok := errx.As[*newerError](err); ok {
			return nil, 0, err
		}
		return nil, 0, corrupt("%v", err)
	}
	if !readOnly {
		if err := stampVersion(db); err != nil {
			closeQuietly(db)
			return nil, 0, fmt.Errorf("open history %s: record its format: %w", path, err)
		}
	}
	return db, data, nil
}

func openBolt(path string, lockTimeout time.Duration, readOnly bool) (db *bolt.DB, err error) {
	// bbolt reads the file through mmap: a truncated file faults (SIGBUS), and
	// a damaged page makes bbolt panic. Both become errors here.
	old := debug.SetPanicOnFault(true)
	defer func() { // one defer for both (smaller code): recover, then restore
		if p := recover(); p != nil {
			db, err = nil, corrupt("bbolt failed reading the file: %v", p)
		}
		debug.SetPanicOnFault(old)
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, ReadOnly: readOnly})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	case environmental(err):
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	return nil, corrupt("%v", err)
}

// check walks every record: the file must hold every page bbolt's meta page
// claims, and every record must have our header.
func check(db *bolt.DB) (data int64, err error) {
	old := debug.SetPanicOnFault(true)
	defer func() { // one defer for both (smaller code): recover, then restore
		if p := recover(); p != nil {
			err = fmt.Errorf("bbolt failed reading the file: %v", p)
		}
		debug.SetPanicOnFault(old)
	}()
	fi, err := os.Stat(db.Path())
	if err != nil {
		return 0, err
	}
	err = db.View(func(tx *bolt.Tx) error {
		if tx.Size() > fi.Size() {
			return fmt.Errorf("the file is truncated: its pages need %d bytes, it has %d", tx.Size(), fi.Size())
		}
		if v, err := fileVersion(tx); err != nil {
			return err
		} else if v > FormatVersion {
			return &newerError{v} // its records may differ: not read
		}
		b := tx.Bucket(bucketName)
		if b == nil {
			return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
				if string(name) == string(metaBucket) {
					return nil
				}
				return fmt.Errorf("not a vpnpass history file (bucket %q)", name)
			})
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if _, _, _, herr := recordHeader(v); herr != nil || len(k) != 8 {
				return fmt.Errorf("record %x is malformed", k)
			}
			data += recordCost(k, v)
		}
		return nil
	})
	return data, err
}

// setAside moves a file that Open or Restore found unusable (err) out of
// the way: a newer vpnpass's file is kept for it (keepNewer), a corrupt one
// moved to <path>.corrupt-<UTC time> (moveAside). It returns what happened;
// the error is the move's.
func setAside(path string, err error, now time.Time) (*Reset, error) {
	ne, newer := errx.As[*newerError](err)
	var moved string
	var merr error
	if newer {
		moved, merr = keepNewer(path, ne.version)
	} else {
		moved, merr = moveAside(path, now)
	}
	if merr != nil {
		return nil, merr
	}
	return &Reset{MovedTo: moved, Reason: err.Error(), Newer: newer}, nil
}

func closeQuietly(db *bolt.DB) {
	defer func() { recover() }()
	db.Close()
}

// keepCorrupt is how many moved-aside files are kept (the default path is
// on tmpfs, i.e. RAM).
const keepCorrupt = 3

// moveAside renames a corrupt file to <path>.corrupt-<UTC time> and removes
// all but the newest few such files.
func moveAside(path string, now time.Time) (string, error) {
	base := path + ".corrupt-" + now.UTC().Format("20060102T150405Z")
	name := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			break
		}
		name = base + "-" + strconv.Itoa(i)
	}
	if err := os.Rename(path, name); err != nil {
		return "", err
	}
	syncDir(path)
	old := withPrefix(path + ".corrupt-")
	sort.StringSlice(old).Sort() // the names sort by the time they were moved aside
	for len(old) > keepCorrupt {
		if old[0] != name {
			os.Remove(old[0])
		}
		old = old[1:]
	}
	return name, nil
}

func dirOf(path string) string { return filepath.Dir(path) }

// withPrefix lists the files whose path starts with prefix. (Not
// filepath.Glob: it would read prefix's metacharacters as a pattern, and its
// generic sort costs ~12 KiB on mips; sort.StringSlice uses sort.Sort, which
// the libraries link anyway.)
func withPrefix(prefix string) []string {
	dir, base := filepath.Split(prefix)
	f, err := os.Open(filepath.Clean(dir + "."))
	if err != nil {
		return nil
	}
	names, _ := f.Readdirnames(-1)
	f.Close()
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, base) {
			slicex.Strings(&out, dir+n)
		}
	}
	return out
}
