package tstamp

import (
	"testing"
	"time"
)

var stamps = []string{
	"2026-12-05T23:00:00Z", "2026-12-05T23:00:00.123456789Z", "2026-12-05T23:00:00,5Z",
	"2026-12-05T23:00:00.1234567891234Z", "2026-12-05T23:00:00+01:00", "2026-12-05T23:00:00-07:30",
	"2026-12-05T23:00:00+24:60", "2026-12-05T23:00:00+25:00", "2026-12-05T23:00:00+01:61",
	"2026-12-05T5:00:00Z", "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
	"2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-12-00T00:00:00Z", "2026-12-05T24:00:00Z",
	"2026-12-05T23:60:00Z", "2026-12-05T23:00:60Z", "2026-12-05T23:00:00", "2026-12-05T23:00:00Zx",
	"2026-12-05 23:00:00Z", "2026-12-5T23:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
	"2026-12-05T23:00:00.Z", "2026-12-05T23:00:00+0100", "2026-12-05T23:00:00z", "", "2026",
	"2026-12-05T23:00:00+01:0x", "-026-12-05T23:00:00Z", "+026-12-05T23:00:00Z", "2026-12-05T23:00:00 +01:00",
	"2026-12-05T023:00:00Z", "1900-02-29T00:00:00Z", "2000-02-29T00:00:00Z",
	"2026-12-05T23:00:00+00:00", "2026-12-05T23:00:00-00:00", "2026-12-05T23:00:00+23:59", "2026-12-05T23:00:00+24:00",
	"2026-12-05T23:00:00.5+01:00", "2026-12-05T23:00:00,5+01:00",
}

// same checks that ParseRFC3339 agrees with time.Parse and with time.Time's
// UnmarshalText on s: both fail, or both give the same time.
func same(t *testing.T, s string) {
	t.Helper()
	want, werr := time.Parse(time.RFC3339, s)
	got, gerr := ParseRFC3339(s)
	check(t, "Parse", s, got, gerr, want, werr)
	werr = want.UnmarshalText([]byte(s))
	got, gerr = ParseRFC3339(s)
	check(t, "UnmarshalText", s, got, gerr, want, werr)
}

func check(t *testing.T, what, s string, got time.Time, gerr error, want time.Time, werr error) {
	t.Helper()
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: got %v, %v; time's %s %v, %v", s, got, gerr, what, want, werr)
	}
	if werr != nil {
		return
	}
	gn, go_ := got.Zone()
	wn, wo := want.Zone()
	if !got.Equal(want) || gn != wn || go_ != wo || (got.Location() == time.Local) != (want.Location() == time.Local) {
		t.Fatalf("%q: got %v (%s), time's %s %v (%s)", s, got, got.Location(), what, want, want.Location())
	}
}

func TestParseRFC3339MatchesTime(t *testing.T) {
	for _, s := range stamps {
		same(t, s)
	}
	if _, err := ParseRFC3339("2026-12-05T23:00:00+01:00x"); err == nil || err.Error() == "" {
		t.Errorf("no error for trailing text")
	}
}

func FuzzParseRFC3339(f *testing.F) {
	for _, s := range stamps {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { same(t, s) })
}

var durations = []string{
	"0", "-0", "+0", "1h", "1h30m", "1.5h", ".5s", "5.s", "300ms", "-1h", "+2h45m30.5s", "1us", "1µs", "1μs",
	"1ns", "1.0000000001s", "1.00000000000000000001h", "2562047h47m16.854775807s", "2562047h47m16.854775808s",
	"-2562047h47m16.854775808s", "-2562047h47m16.854775809s", "9223372036854775807ns", "9223372036854775808ns",
	"99999999999999999999ns", "0.9223372036854775808ns", "1", "h", ".", ".h", "1x", "1h1", "", "-", "1H",
	"3m1.9999999999999999999999s", "1e3s", "1 h", "0.1000000000000000000000000001h",
}

func sameDuration(t *testing.T, s string) {
	t.Helper()
	want, werr := time.ParseDuration(s)
	got, gerr := ParseDuration(s)
	if (werr == nil) != (gerr == nil) || got != want {
		t.Fatalf("%q: got %v, %v; time.ParseDuration %v, %v", s, got, gerr, want, werr)
	}
	if gerr != nil && gerr.Error() == "" {
		t.Fatalf("%q: empty error", s)
	}
}

func TestParseDurationMatchesTime(t *testing.T) {
	for _, s := range durations {
		sameDuration(t, s)
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range durations {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { sameDuration(t, s) })
}
