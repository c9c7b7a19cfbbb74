// Package logx is the agent's logger: log/slog's call shape (Info(msg,
// "key", value, ...), With) writing the records slog's TextHandler writes,
// byte for byte: `time=2026-12-05T23:00:00.000Z level=INFO msg="..." k=v`.
//
// Why not log/slog: it links its JSON handler behind a runtime switch, which
// keeps encoding/json's encoder in the binary, and its Value/Attr/Record
// machinery; together ~150 KB of a stripped mips binary for the dozen call
// sites the agent has. The tests compare logx's output with slog's.
package logx

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Level is slog's level numbering.
type Level int

// The levels, with slog's values.
const (
	LevelDebug Level = -4
	LevelInfo  Level = 0
	LevelWarn  Level = 4
	LevelError Level = 8
)

// String names the level as slog does: DEBUG, INFO, WARN, ERROR, or the
// nearest below with an offset ("INFO+2").
func (l Level) String() string {
	name, base := "ERROR", LevelError
	switch {
	case l < LevelInfo:
		name, base = "DEBUG", LevelDebug
	case l < LevelWarn:
		name, base = "INFO", LevelInfo
	case l < LevelError:
		name, base = "WARN", LevelWarn
	}
	switch off := int(l - base); {
	case off > 0:
		return name + "+" + strconv.Itoa(off)
	case off < 0:
		return name + strconv.Itoa(off)
	}
	return name
}

// Logger writes one logfmt line per record. Safe for concurrent use.
type Logger struct {
	out   *output
	min   Level
	attrs []byte // " k=v" pairs from With, pre-rendered
}

// output is shared by a logger and those derived from it with With.
type output struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
	now func() time.Time
}

// New writes records of level min and above to w.
func New(w io.Writer, min Level) *Logger {
	return &Logger{out: &output{w: w, now: time.Now}, min: min}
}

// Discard is a logger that writes nothing (for tests).
func Discard() *Logger { return New(io.Discard, LevelError+1) }

var std atomic.Pointer[Logger]

// Default is the process logger: INFO and above to stderr unless
// SetDefault replaced it.
func Default() *Logger {
	if l := std.Load(); l != nil {
		return l
	}
	std.CompareAndSwap(nil, New(os.Stderr, LevelInfo))
	return std.Load()
}

// SetDefault replaces the process logger.
func SetDefault(l *Logger) { std.Store(l) }

// Enabled reports whether records of level l are written.
func (lg *Logger) Enabled(l Level) bool { return l >= lg.min }

// With returns a logger that adds args (key, value pairs) to every record.
func (lg *Logger) With(args ...any) *Logger {
	n := *lg
	n.attrs = appendArgs(append([]byte(nil), lg.attrs...), args)
	return &n
}

// Debug logs at LevelDebug.
func (lg *Logger) Debug(msg string, args ...any) { lg.write(LevelDebug, msg, args) }

// Info logs at LevelInfo.
func (lg *Logger) Info(msg string, args ...any) { lg.write(LevelInfo, msg, args) }

// Warn logs at LevelWarn.
func (lg *Logger) Warn(msg string, args ...any) { lg.write(LevelWarn, msg, args) }

// Error logs at LevelError.
func (lg *Logger) Error(msg string, args ...any) { lg.write(LevelError, msg, args) }

// Log logs at level; slog's signature (ctx is unused: no handler reads it).
func (lg *Logger) Log(_ context.Context, level Level, msg string, args ...any) {
	lg.write(level, msg, args)
}

// write renders one record: time, level, msg, the With pairs, then args.
func (lg *Logger) write(level Level, msg string, args []any) {
	if !lg.Enabled(level) {
		return
	}
	o := lg.out
	o.mu.Lock()
	defer o.mu.Unlock()
	b := add(o.buf[:0], "time=")
	b = appendTime(b, o.now())
	b = add(b, " level=")
	b = add(b, level.String())
	b = add(b, " msg=")
	b = appendString(b, msg)
	b = append(b, lg.attrs...)
	b = appendArgs(b, args)
	b = add(b, "\n")
	_, _ = o.w.Write(b)
	if cap(b) <= 4096 {
		o.buf = b
	}
}

// appendArgs renders key, value pairs as slog does, "!BADKEY" for a value
// without a string key.
func appendArgs(b []byte, args []any) []byte {
	for len(args) > 0 {
		key, ok := args[0].(string)
		var val any
		if !ok || len(args) == 1 {
			key, val, args = "!BADKEY", args[0], args[1:]
		} else {
			val, args = args[1], args[2:]
		}
		b = add(b, " ")
		b = appendString(b, key)
		b = add(b, "=")
		b = appendValue(b, val)
	}
	return b
}

func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendString(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case bool:
		return strconv.AppendBool(b, v)
	case float64:
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	case time.Duration:
		return add(b, v.String())
	case time.Time:
		return appendTime(b, v)
	case interface{ MarshalText() ([]byte, error) }:
		t, err := v.MarshalText()
		if err != nil {
			return add(b, "!ERROR:")
		}
		return appendString(b, string(t))
	case error:
		return appendString(b, v.Error())
	case []byte: // slog always quotes bytes
		return strconv.AppendQuote(b, string(v))
	}
	return appendString(b, fmt.Sprintf("%+v", v))
}

// appendTime is slog's RFC 3339 with exactly three fraction digits.
func appendTime(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}

// appendString quotes s when slog's TextHandler would: empty, a space, '=',
// '"', an ASCII control, a non-printing character, invalid UTF-8.
func appendString(b []byte, s string) []byte {
	if needsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return add(b, s)
}

// add appends s to b: one call instead of an inline append at each site
// (docs/design.md#size).
func add(b []byte, s string) []byte { return append(b, s...) }

func needsQuoting(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == '=' || c == '"' {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		// strconv.IsPrint is unicode.IsPrint without its tables: non-ASCII
		// spaces are not printable there either.
		if r == utf8.RuneError || !strconv.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}
