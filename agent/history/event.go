// Package history is the daemon's event log: a bbolt file with one bucket of
// events keyed by big-endian sequence number, appended in batches (a burst is
// one fsync, not one per event), bounded by size and age, compacted into a
// new file when bbolt's never-shrinking file outgrows its cap, and moved
// aside and started afresh when it is found corrupt.
package history

import (
	"encoding/binary"
	"errors"
	"fmt"
	json "github.com/vpnpass/vpnpass/internal/jsonx"
	"github.com/vpnpass/vpnpass/vpn"
	"strings"
	"time"
)

// Event kinds (docs/interface.md#history).
const (
	KindAgentStarted          = "agent.started"
	KindAgentStopped          = "agent.stopped"
	KindConfigInvalid         = "config.invalid"
	KindPassthroughChanged    = "passthrough.changed"
	KindFirewallDriftRepaired = "firewall.drift_repaired"
	KindHelperLoaded          = "helper.loaded"
	KindHelperUnavailable     = "helper.unavailable"
	KindConntrackAccountingOn = "conntrack.accounting_enabled"
	KindConntrackOverrun      = "conntrack.overrun"
	KindWANChanged            = "wan.changed"
	KindNATChanged            = "nat.changed"
	KindVPNFinding            = "vpn.finding"
	KindHistoryReset          = "history.reset"
	KindError                 = "error"
)

// Kinds lists every kind above, for validation and documentation.
var Kinds = []string{
	KindAgentStarted, KindAgentStopped, KindConfigInvalid, KindPassthroughChanged,
	KindFirewallDriftRepaired, KindHelperLoaded, KindHelperUnavailable,
	KindConntrackAccountingOn, KindConntrackOverrun, KindWANChanged, KindNATChanged,
	KindVPNFinding, KindHistoryReset, KindError,
}

// Event is one immutable history record, in the API's JSON shape (docs/interface.md#history).
// Seq is assigned when the event is committed; Time is UTC.
type Event struct {
	Seq      uint64         `json:"seq"`
	Time     time.Time      `json:"time"`
	Kind     string         `json:"kind"`
	Severity vpn.Severity   `json:"severity"`
	Protocol string         `json:"protocol,omitempty"`
	Host     string         `json:"host,omitempty"`
	Peer     string         `json:"peer,omitempty"`
	Message  string         `json:"message"`
	Details  map[string]any `json:"details,omitempty"`

	mono    time.Duration // the monotonic reading when Append stamped Time
	stamped bool          // Append stamped Time (else the caller set it)
}

// MatchKind reports whether kind matches a filter: "" matches everything, a
// filter ending in "." is a prefix ("vpn."), anything else must be equal.
func MatchKind(filter, kind string) bool {
	if filter == "" {
		return true
	}
	if strings.HasSuffix(filter, ".") {
		return strings.HasPrefix(kind, filter)
	}
	return kind == filter
}

// A stored value is a small header that Query filters on without decoding
// JSON, then the event's JSON:
//
//	version (1 byte, 1) | time (8 bytes, Unix ns, big-endian) | len(kind) (1 byte) | kind | JSON
const recordVersion = 1

func encodeRecord(ev *Event) ([]byte, error) {
	if len(ev.Kind) > 255 {
		return nil, fmt.Errorf("event kind longer than 255 bytes: %.40q", ev.Kind)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	b := make([]byte, 0, 10+len(ev.Kind)+len(body))
	b = append(b, recordVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(ev.Time.UnixNano()))
	b = append(b, byte(len(ev.Kind)))
	b = append(b, ev.Kind...)
	return append(b, body...), nil
}

var errBadRecord = errors.New("malformed history record")

// recordHeader returns a record's time and kind and the JSON after them.
func recordHeader(v []byte) (none time.Time, _ string, _ []byte, _ error) {
	if len(v) < 10 || v[0] != recordVersion || len(v) < 10+int(v[9]) {
		return none, "", nil, errBadRecord
	}
	t := time.Unix(0, int64(binary.BigEndian.Uint64(v[1:9]))).UTC()
	n := int(v[9])
	return t, string(v[10 : 10+n]), v[10+n:], nil
}

func decodeRecord(k, v []byte) (none Event, _ error) {
	_, _, body, err := recordHeader(v)
	if err != nil || len(k) != 8 {
		return none, errBadRecord
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return none, fmt.Errorf("%w: %v", errBadRecord, err)
	}
	ev.Seq = binary.BigEndian.Uint64(k)
	ev.Time = ev.Time.UTC()
	return ev, nil
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// incomparable, as a struct's first field, makes the struct not comparable
// with ==: the compiler then generates no equality function for it (a few
// hundred bytes of code each on mips, referenced by the type's descriptor
// although nothing calls it).
type incomparable [0]func()
