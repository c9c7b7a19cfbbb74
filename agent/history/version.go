package history

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// FormatVersion is the history file format this build writes and reads:
// the bucket "events" of records keyed by big-endian seq (event.go), plus
// the bucket "meta" whose key "version" holds the format as decimal text.
// A file without the key was written before it existed and is format 1.
//
// Downgrade: an older vpnpass reads only "events" and ignores "meta" (it
// calls a file without "events" foreign, so both are created together).
// A file of a newer format is never rewritten: Open moves it aside (kept,
// not deleted, for when the newer vpnpass returns) and starts afresh.
const FormatVersion = 1

var (
	metaBucket = []byte("meta")
	versionKey = []byte("version")
)

// newerError: the file is of a format this build does not know.
type newerError struct{ version int }

func (e *newerError) Error() string {
	return "it was written by a newer vpnpass (history format " + strconv.Itoa(e.version) + "; this one reads up to " + strconv.Itoa(FormatVersion) + ")"
}

// ErrNewerFormat matches the error for a file of a newer format.
var ErrNewerFormat = errors.New("history: file of a newer format")

func (e *newerError) Is(target error) bool { return target == ErrNewerFormat }

// fileVersion reads the format of an open file: 1 without the key.
func fileVersion(tx *bolt.Tx) (int, error) {
	b := tx.Bucket(metaBucket)
	if b == nil {
		return 1, nil
	}
	v := b.Get(versionKey)
	if v == nil {
		return 1, nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("history format %q is not a version number", v)
	}
	return n, nil
}

// stampVersion creates both buckets and records FormatVersion in a file
// this build will write (a file of format 1 without the key gets it).
func stampVersion(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketName); err != nil {
			return err
		}
		m, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		if string(m.Get(versionKey)) == strconv.Itoa(FormatVersion) {
			return nil
		}
		return m.Put(versionKey, []byte(strconv.Itoa(FormatVersion)))
	})
}

// keepNewer renames a file of a newer format to <path>.v<N>, replacing an
// older copy of the same name: the newer vpnpass finds it there.
func keepNewer(path string, version int) (string, error) {
	name := path + ".v" + strconv.Itoa(version)
	if err := os.Rename(path, name); err != nil {
		return "", err
	}
	syncDir(path)
	return name, nil
}
