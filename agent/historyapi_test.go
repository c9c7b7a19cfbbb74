package agent

import (
	"bytes"
	"context"
	"github.com/vpnpass/vpnpass/agent/logx"
	json "github.com/vpnpass/vpnpass/internal/jsonx"
	"github.com/vpnpass/vpnpass/vpn"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/agent/history"
)

// historyDaemon is a daemon with only a history, enough for handleHistory.
func historyDaemon(t testing.TB) (*Daemon, *history.Store) {
	s, err := history.Open(filepath.Join(t.TempDir(), "h.db"), history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &Daemon{log: logx.Default(), limit: newLogLimiter(time.Minute), store: s}, s
}

// TestHistoryHandlerShape: the history method's result is byte for byte
// what encoding the decoded events (Store.Query) as api.HistoryResult gives, for every kind of
// content an event carries, so serving the stored JSON (QueryJSON) changes
// nothing a client sees.
func TestHistoryHandlerShape(t *testing.T) {
	d, s := historyDaemon(t)
	base := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	for i, ev := range []history.Event{
		{Kind: history.KindAgentStarted, Message: "vpnpass agent started"},
		{Kind: history.KindPassthroughChanged, Protocol: "ipsec", Message: "ipsec passthrough: default → allow (api)",
			Details: map[string]any{"from": "default", "to": "allow", "by": "api"}},
		{Kind: history.KindVPNFinding, Severity: vpn.SeverityWarning, Protocol: "pptp", Host: "192.168.1.10",
			Peer: "203.0.113.10", Message: "GRE never answered <check> the \"upstream\" & retry\nline two\ttab",
			Details: map[string]any{"code": "gre-blocked", "count": 3, "ratio": 0.25, "ok": false, "none": nil,
				"list": []any{"a", 1.5, map[string]any{"z": 1, "a": "<>"}}, "nested": map[string]any{"b": []any{}, "a": map[string]any{}}}},
		{Kind: history.KindConfigInvalid, Severity: vpn.SeverityWarning, Message: "日本語のメッセージ \u2028 \U0001F600",
			Details: map[string]any{"file": "/etc/config/vpnpass", "line": 12, "option": "mode", "value": "sometimes"}},
		{Kind: history.KindError, Severity: vpn.SeverityError, Message: strings.Repeat("too long ", 4000)}, // truncated by the store
		{Kind: history.KindWANChanged, Message: "empty details", Details: map[string]any{}},
		{Kind: history.KindNATChanged, Message: "invalid UTF-8 \xff\xfe kept as replacement"},
	} {
		ev.Time = base.Add(time.Duration(i) * time.Second)
		if err := s.Append(&ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, params := range []string{
		`{}`, `{"limit": 3}`, `{"kind": "vpn."}`, `{"kind": "error"}`, `{"since": "2026-01-02T03:04:07Z"}`, `{"kind": "nothing"}`,
		`{"before": 3}`, `{"protocol": "ipsec", "until": "2026-01-02T03:04:09Z"}`,
	} {
		var p api.HistoryParams
		if err := api.DecodeParams(json.RawMessage(params), &p); err != nil {
			t.Fatal(err)
		}
		got, err := d.handleHistory(context.Background(), &p)
		if err != nil {
			t.Fatalf("%s: %v", params, err)
		}
		gotJSON, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		f, err := HistoryFilter(p)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := s.Query(f)
		if err != nil {
			t.Fatal(err)
		}
		wantJSON, _ := json.Marshal(api.HistoryResult{Events: evs}) // the contract's result type
		if !bytes.Equal(gotJSON, wantJSON) {
			t.Errorf("%s:\n got %s\nwant %s", params, gotJSON, wantJSON)
		}
		if len(evs) == 0 && !bytes.Equal(gotJSON, []byte(`{"events":[]}`)) {
			t.Errorf("%s: no events must be an empty array, got %s", params, gotJSON)
		}
	}
}

// BenchmarkHistoryHandlerLast100 is the API's work for `history --limit
// 100` on a full 512 KiB history, without the socket: flush, query and
// encode the result as the server does.
func BenchmarkHistoryHandlerLast100(b *testing.B) {
	d, s := historyDaemon(b)
	for i := 0; i < 5000; i++ {
		s.Append(&history.Event{Kind: history.KindVPNFinding, Severity: vpn.SeverityWarning, Protocol: "ipsec",
			Host: "192.168.1.10", Peer: "203.0.113.10",
			Message: "UDP 4500 never answered: NAT-T is blocked between this router and the server",
			Details: map[string]any{"code": "natt-blocked", "n": i}})
	}
	params := api.HistoryParams{Limit: 100}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := d.handleHistory(context.Background(), &params)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(res); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHistoryFilterParams: the paging and range params (our additions) are
// checked like the others: a bad value is bad_params, naming what is valid.
func TestHistoryFilterParams(t *testing.T) {
	until := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		p    api.HistoryParams
		want history.Filter
		err  string
	}{
		{p: api.HistoryParams{Before: 7, Protocol: "pptp", Until: "2026-01-02T03:04:05Z"},
			want: history.Filter{Before: 7, Protocol: "pptp", Until: until}},
		{p: api.HistoryParams{Before: -1}, err: "before must be"},
		{p: api.HistoryParams{Protocol: "ppp"}, err: "must be one of pptp, l2tp, ipsec"},
		{p: api.HistoryParams{Until: "yesterday"}, err: "until must be"},
	} {
		f, err := HistoryFilter(tc.p)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: error %v, want %q", tc.p, err, tc.err)
			}
			continue
		}
		if err != nil || f != tc.want {
			t.Errorf("%+v: %+v %v, want %+v", tc.p, f, err, tc.want)
		}
	}
}
