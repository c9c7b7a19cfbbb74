package logx

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"
)

type named string

// The records must be the ones slog's TextHandler wrote (the fleet log
// parsers and the docs rely on that format).
func TestRecordsMatchSlogTextHandler(t *testing.T) {
	at := time.Date(2026, 12, 5, 23, 4, 5, 6_789_000, time.UTC)
	for _, c := range []struct {
		name string
		msg  string
		args []any
	}{
		{"plain", "history restored", []any{"from", "/overlay/x", "to", "/tmp/h"}},
		{"quoting", "a b", []any{"k", "", "eq", "a=b", "q", `say "hi"`, "nl", "x\ny", "bs", `a\b`, "del", "a\x7fb",
			"nbsp", "a\u00a0b", "jp", "日本", "bad", "\xff", "tab", "\t"}},
		{"kinds", "m", []any{"i", 3, "i64", int64(-4), "u", uint64(5), "u16", uint16(6), "b", true, "f", 1.5, "f2", 1e21,
			"d", 1500 * time.Millisecond, "t", at.Add(time.Hour), "err", errors.New("boom: x=y"), "nil", nil,
			"addr", netip.MustParseAddr("192.0.2.1"), "named", named("pptp"), "list", []string{"a", "b"},
			"bytes", []byte("raw"), "map", map[string]int{"a": 1}}},
		{"badkey", "m", []any{1, "x", "odd"}},
		{"key quoting", "m", []any{"a key", 1}},
	} {
		var want, got bytes.Buffer
		sl := slog.New(slog.NewTextHandler(&want, &slog.HandlerOptions{Level: slog.LevelInfo,
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					a.Value = slog.TimeValue(at)
				}
				return a
			}})).With("kind", "wan")
		lg := New(&got, LevelInfo).With("kind", "wan")
		lg.out.now = func() time.Time { return at }
		sl.Warn(c.msg, c.args...)
		lg.Warn(c.msg, c.args...)
		sl.Log(context.Background(), slog.LevelError, c.msg, c.args...)
		lg.Log(context.Background(), LevelError, c.msg, c.args...)
		sl.Debug("hidden")
		lg.Debug("hidden")
		if got.String() != want.String() {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got.String(), want.String())
		}
	}
}

func TestLevelNamesMatchSlog(t *testing.T) {
	for l := LevelDebug - 3; l <= LevelError+3; l++ {
		if got, want := l.String(), slog.Level(l).String(); got != want {
			t.Errorf("Level(%d) = %q, slog %q", int(l), got, want)
		}
	}
}

func TestDefaultAndDiscard(t *testing.T) {
	if Default() == nil || Default() != Default() {
		t.Fatal("Default is not one logger")
	}
	old := Default()
	defer SetDefault(old)
	var b strings.Builder
	SetDefault(New(&b, LevelWarn))
	Default().Info("no")
	Default().Error("yes")
	if !strings.Contains(b.String(), "level=ERROR msg=yes\n") || strings.Contains(b.String(), "msg=no") {
		t.Errorf("default logger wrote %q", b.String())
	}
	if Discard().Enabled(LevelError) {
		t.Error("Discard writes errors")
	}
}
