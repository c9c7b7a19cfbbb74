package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vpnpass/vpnpass/test/lab"
)

// TestCorruptHistoryAtStart starts the agent on a damaged history file: it
// must start anyway, move the file aside intact (history.db.corrupt-*),
// begin a new history whose history.reset event (severity error) says what
// happened and where the old file went, as `vpnpass history` shows, and
// serve status. Each case damages the file as a real failure would.
func TestCorruptHistoryAtStart(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FirewallNone}})
	for _, c := range []struct {
		name   string
		damage func(t *testing.T, a *agentRun, path string)
	}{
		// A real history cut in the middle of its pages (a write that never
		// reached the disk, a copy that stopped).
		{"truncated", truncatedHistory},
		// Not a bbolt file at all.
		{"random-bytes", func(t *testing.T, _ *agentRun, path string) {
			writeFile(t, path, randomBytes(t, 64<<10))
		}},
		// Created, then nothing written (power cut right after the create).
		{"empty", func(t *testing.T, _ *agentRun, path string) { writeFile(t, path, nil) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newAgent(t, l)
			a.writeConfig(t)
			path := filepath.Join(a.dir, "history.db")
			c.damage(t, a, path)
			damaged, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}

			a.start(t)
			moved, _ := filepath.Glob(path + ".corrupt-*")
			if len(moved) != 1 {
				t.Fatalf("want the damaged file moved aside once, found %v", moved)
			}
			if kept, err := os.ReadFile(moved[0]); err != nil || !bytes.Equal(kept, damaged) {
				t.Fatalf("%s does not hold the damaged file's bytes (err %v)", moved[0], err)
			}
			checkResetEvent(t, a, moved[0])
			if err := a.ping(); err != nil {
				t.Fatalf("status after a history reset: %v", err)
			}
			a.stop(t)
		})
	}
}

// checkResetEvent reads the history through the CLI, as a person would.
func checkResetEvent(t *testing.T, a *agentRun, moved string) {
	t.Helper()
	out, err := a.cli("history", "--json")
	if err != nil {
		t.Fatalf("vpnpass history: %v\n%s", err, out)
	}
	var h struct{ Events []apiEvent }
	if err := json.Unmarshal(out, &h); err != nil {
		t.Fatalf("history JSON: %v\n%s", err, out)
	}
	var reset *apiEvent
	for i, e := range h.Events {
		if e.Kind == "history.reset" {
			reset = &h.Events[i]
		}
	}
	if reset == nil {
		t.Fatalf("no history.reset event:\n%s", out)
	}
	if reset.Severity != "error" || !strings.Contains(reset.Message, moved) || reset.Details["moved_to"] != moved {
		t.Fatalf("history.reset does not name %s as an error: %+v", moved, *reset)
	}
	t.Logf("history.reset: %s", reset.Message)
	text, err := a.cli("history", "--kind", "history.reset")
	if err != nil || !strings.Contains(string(text), "history.reset") || !strings.Contains(string(text), filepath.Base(moved)) {
		t.Fatalf("`vpnpass history` does not show the reset and where the file went: %v\n%s", err, text)
	}
}

// truncatedHistory writes a real history with the flood hook (several
// hundred KiB of pages), then cuts it at half of the pages bbolt uses.
func truncatedHistory(t *testing.T, a *agentRun, path string) {
	a.bin, a.env = floodBinary(t), []string{"VPNPASS_TEST_EVENT_RATE=" + strconv.Itoa(floodRate)}
	a.start(t)
	time.Sleep(300 * time.Millisecond)
	a.stop(t)
	a.bin, a.env = "", nil
	used := boltSize(t, path)
	if used < 16*4096 {
		t.Fatalf("the history has only %d bytes of pages: too small to truncate meaningfully", used)
	}
	t.Logf("history of %d bytes of pages cut to %d", used, used/2)
	if err := os.Truncate(path, used/2); err != nil {
		t.Fatal(err)
	}
}

// boltSize returns the bytes below bbolt's high-water mark (pages in use or free).
func boltSize(t *testing.T, path string) int64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
