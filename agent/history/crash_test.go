package history

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// crashChildEnv makes the test binary act as the appending child of
// TestCrashSafety (see TestMain).
const crashChildEnv = "VPNPASS_HISTORY_CRASH_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(crashChildEnv); spec != "" {
		path, capStr, _ := strings.Cut(spec, "|")
		maxBytes, _ := strconv.ParseInt(capStr, 10, 64)
		crashChild(path, maxBytes)
		return
	}
	os.Exit(m.Run())
}

// crashChild appends as fast as it can and prints every event Query returns
// ("seq message") until it is killed. Half of the rounds rely on the batch
// window instead of Flush.
func crashChild(path string, maxBytes int64) {
	s, err := Open(path, Options{MaxBytes: maxBytes, BatchWindow: 2 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	for n := 0; ; n++ {
		for i := 0; i < 20; i++ {
			s.Append(&Event{Kind: KindVPNFinding, Message: fmt.Sprintf("pid%d-round%d-%d", os.Getpid(), n, i)})
		}
		if n%2 == 0 {
			s.Flush()
		}
		evs, err := s.Query(Filter{Limit: 25})
		if err != nil {
			fmt.Fprintln(os.Stderr, "child query:", err)
			os.Exit(2)
		}
		for _, e := range evs {
			fmt.Fprintf(w, "%d %s\n", e.Seq, e.Message)
		}
		w.Flush()
	}
}

// TestCrashSafety kills an appending child with SIGKILL 20 times. After each
// kill the file must open without a reset, and every event that Query had
// returned to the child must still be there with its message. With a 64 KiB
// cap (pruning and compaction all the time, so kills land inside
// compactions too) events may have been pruned, but only the oldest: every
// event Query returned that is newer than the oldest one kept must be there.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("kills 30 child processes")
	}
	for _, tc := range []struct {
		name     string
		maxBytes int64
		kills    int
	}{{"no pruning", 64 << 20, 20}, {"64KiB cap", 64 << 10, 10}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "h.db")
			seen := map[uint64]string{}
			rng := rand.New(rand.NewSource(time.Now().UnixNano()))
			for round := 0; round < tc.kills; round++ {
				got := runAndKill(t, path, tc.maxBytes, time.Duration(rng.Intn(150))*time.Millisecond)
				for k, v := range got {
					seen[k] = v
				}
				verifyAfterCrash(t, path, tc.maxBytes, seen, round)
			}
			t.Logf("%d distinct events confirmed across %d kills", len(seen), tc.kills)
		})
	}
}

// runAndKill starts the child, lets it run until it has printed and then for
// extra, kills it with SIGKILL and returns what it printed in whole lines.
func runAndKill(t *testing.T, path string, maxBytes int64, extra time.Duration) map[uint64]string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%d", crashChildEnv, path, maxBytes))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	got := map[uint64]string{}
	var mu sync.Mutex
	first := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := bufio.NewReader(out)
		once := sync.Once{}
		for {
			line, err := r.ReadString('\n')
			if err != nil { // a partial last line was never fully printed: ignore it
				if err != io.EOF {
					t.Error(err)
				}
				return
			}
			seq, msg, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
			n, perr := strconv.ParseUint(seq, 10, 64)
			if !ok || perr != nil {
				t.Errorf("bad child line %q", line)
				continue
			}
			mu.Lock()
			got[n] = msg
			mu.Unlock()
			once.Do(func() { close(first) })
		}
	}()
	select {
	case <-first:
	case <-done:
	case <-time.After(30 * time.Second):
		t.Error("child printed nothing in 30 s")
	}
	time.Sleep(extra)
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
	cmd.Wait()
	mu.Lock()
	defer mu.Unlock()
	return got
}

func verifyAfterCrash(t *testing.T, path string, maxBytes int64, seen map[uint64]string, round int) {
	t.Helper()
	s, err := Open(path, Options{MaxBytes: maxBytes})
	if err != nil {
		t.Fatalf("round %d: open after kill: %v", round, err)
	}
	defer s.Close()
	if s.Reset() != nil {
		t.Fatalf("round %d: file reset after a kill: %+v", round, s.Reset())
	}
	missing := 0
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketName)
		if b == nil {
			return fmt.Errorf("no events bucket")
		}
		oldest, _ := b.Cursor().First()
		if oldest == nil {
			return fmt.Errorf("no events at all")
		}
		for seq, msg := range seen {
			if seq < binary.BigEndian.Uint64(oldest) {
				continue // pruned for size: allowed, it is older than all that is kept
			}
			v := b.Get(binary.BigEndian.AppendUint64(nil, seq))
			if v == nil {
				missing++
				continue
			}
			ev, err := decodeRecord(seqKey(seq), v)
			if err != nil || ev.Message != msg {
				return fmt.Errorf("seq %d: %q, want %q (%v)", seq, ev.Message, msg, err)
			}
		}
		return nil
	})
	if err != nil || missing > 0 {
		t.Fatalf("round %d: %d of %d events Query had returned are gone (%v)", round, missing, len(seen), err)
	}
}
