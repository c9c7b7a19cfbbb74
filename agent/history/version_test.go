package history

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// writeV1 makes a history file as vpnpass wrote it before the format key:
// the events bucket only.
func writeV1(t *testing.T, path string, n int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketName)
		if err != nil {
			return err
		}
		for i := 1; i <= n; i++ {
			ev := Event{Seq: uint64(i), Time: t0, Kind: KindAgentStarted, Severity: "info", Message: fmt.Sprint("old ", i)}
			v, err := encodeRecord(&ev)
			if err != nil {
				return err
			}
			if err := b.Put(seqKey(uint64(i)), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || db.Close() != nil {
		t.Fatal(err)
	}
}

// readAsV1 opens a file exactly as the vpnpass before the format key did
// (open.go's check and query.go's scan at that commit): a file without
// "events" but with another bucket is foreign (moved aside as corrupt),
// every record of "events" must carry header version 1; it returns the
// messages.
func readAsV1(t *testing.T, path string) []string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var msgs []string
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("events"))
		if b == nil {
			return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
				return fmt.Errorf("not a vpnpass history file (bucket %q)", name)
			})
		}
		return b.ForEach(func(k, v []byte) error {
			if len(v) < 10 || v[0] != 1 || len(k) != 8 {
				return fmt.Errorf("record %x is malformed", k)
			}
			ev, err := decodeRecord(k, v)
			msgs = append(msgs, ev.Message)
			return err
		})
	})
	if err != nil {
		t.Fatalf("the previous vpnpass would move this file aside: %v", err)
	}
	return msgs
}

// TestFormatV1Read: a file without the format key is read as format 1,
// its events kept, and stamped with the key on open.
func TestFormatV1Read(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	writeV1(t, path, 3)
	s := openT(t, path, Options{Now: (&clock{t: t0}).Now})
	evs, err := s.Query(Filter{})
	if err != nil || len(evs) != 3 || evs[2].Message != "old 1" || s.Reset() != nil {
		t.Fatalf("v1 file: %v %v reset %v", evs, err, s.Reset())
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		if v, err := fileVersion(tx); v != FormatVersion || err != nil || tx.Bucket(metaBucket) == nil {
			t.Errorf("format after open: %d %v", v, err)
		}
		return nil
	})
}

// TestDowngradeReadsNewFile: files this build writes, a fresh empty one
// included, are read whole by the previous vpnpass.
func TestDowngradeReadsNewFile(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	openT(t, empty, Options{}).Close()
	if got := readAsV1(t, empty); len(got) != 0 {
		t.Errorf("empty file: %v", got)
	}
	full := filepath.Join(dir, "full.db")
	s := openT(t, full, Options{Now: (&clock{t: t0}).Now})
	mustAppend(t, s, Event{Kind: KindAgentStarted, Severity: "info", Message: "new 1"},
		Event{Kind: KindVPNFinding, Severity: "warn", Message: "new 2"})
	s.Close()
	if got := readAsV1(t, full); len(got) != 2 || got[1] != "new 2" {
		t.Errorf("full file: %v", got)
	}
}

// TestNewerFormatKept: a file of a newer format is neither read nor
// destroyed: the daemon keeps it as <path>.v<N> and starts afresh, the
// CLI says so, and a newer saved copy on flash is kept the same way.
func TestNewerFormatKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "h.db")
	writeV1(t, path, 2)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		m, _ := tx.CreateBucket(metaBucket)
		return m.Put(versionKey, []byte(strconv.Itoa(FormatVersion+1)))
	})
	db.Close()
	if _, err := OpenReadOnly(path); !errors.Is(err, ErrNewerFormat) {
		t.Fatalf("read-only open: %v", err)
	}
	saved := filepath.Join(dir, "saved.db")
	b, _ := os.ReadFile(path)
	os.WriteFile(saved, b, 0o600)
	r, err := Restore(filepath.Join(dir, "live.db"), saved, t0)
	kept := fmt.Sprintf("%s.v%d", saved, FormatVersion+1)
	if err != nil || r.Reset == nil || !r.Reset.Newer || r.Reset.MovedTo != kept {
		t.Fatalf("restore: %+v %v", r, err)
	}
	s := openT(t, path, Options{Now: (&clock{t: t0}).Now})
	if r := s.Reset(); r == nil || !r.Newer || r.MovedTo != fmt.Sprintf("%s.v%d", path, FormatVersion+1) {
		t.Fatalf("reset %+v", r)
	}
	evs, _ := s.Query(Filter{})
	if len(evs) != 1 || evs[0].Kind != KindHistoryReset {
		t.Fatalf("fresh file holds %v", evs)
	}
	t.Log(evs[0].Message)
	for _, p := range []string{kept, s.Reset().MovedTo} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("newer file not kept: %v", err)
		}
	}
}
