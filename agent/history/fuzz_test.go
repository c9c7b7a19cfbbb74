package history

import (
	"testing"
	"time"
)

// FuzzDecodeRecord: a history file is read back after crashes, power cuts
// and other versions wrote it; any stored key and value decode to an event
// or to errBadRecord, never a panic, and a decoded event survives a
// re-encode unchanged.
func FuzzDecodeRecord(f *testing.F) {
	ev := Event{Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Kind: KindVPNFinding, Severity: "warn",
		Protocol: "pptp", Host: "192.168.1.10", Message: "GRE blocked", Details: map[string]any{"code": "gre_blocked"}}
	v, err := encodeRecord(&ev)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seqKey(7), v)
	f.Add(seqKey(1), v[:12])
	f.Add([]byte{1}, v)
	f.Add(seqKey(2), append([]byte{2}, v[1:]...))
	f.Fuzz(func(t *testing.T, k, v []byte) {
		ev, err := decodeRecord(k, v)
		if err != nil {
			return
		}
		again, err := encodeRecord(&ev)
		if err != nil {
			return // a kind over 255 bytes read from JSON is refused on write
		}
		ev2, err := decodeRecord(k, again)
		if err != nil || ev2.Seq != ev.Seq || ev2.Kind != ev.Kind || !ev2.Time.Equal(ev.Time) || ev2.Message != ev.Message {
			t.Fatalf("round trip: %+v -> %+v (%v)", ev, ev2, err)
		}
	})
}
