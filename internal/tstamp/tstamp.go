// Package tstamp parses the two time texts vpnpass reads: RFC 3339 stamps
// and Go durations. ParseRFC3339 accepts exactly what
// time.Parse(time.RFC3339, s) and time.Time's UnmarshalJSON and
// UnmarshalText accept (Go 1.23 and later still leave their stricter RFC 3339
// checks off, go.dev/issue/54580), ParseDuration what time.ParseDuration
// accepts; each returns the same instant in the same location (UTC for "Z",
// time.Local when the offset is the local one, else an unnamed fixed zone)
// or the same duration. The tests fuzz both against the time package.
//
// Why: time.Parse links the time package's general layout parser
// (time.parse, ~12 KB of mips code, with its zone-name and error machinery),
// ParseDuration its unit map, and Time.UnmarshalJSON/UnmarshalText both
// (internal/jsonx decodes time.Time with ParseRFC3339 so that they stay
// out); these fixed shapes need ~3 KB. Formatting stays on the time
// package: Time.String keeps its layout formatter linked anyway (fmt).
package tstamp

import (
	"errors"
	"strconv"
	"time"
)

// ParseRFC3339 reads "2006-01-02T15:04:05Z07:00" with time.Parse's rules:
// an optional fraction of any length after the seconds ('.' or ','; digits
// past the ninth are dropped), a one- or two-digit hour, "Z" or ±hh:mm with
// up to 24 hours and 60 minutes.
func ParseRFC3339(s string) (time.Time, error) {
	p := parser{s: s}
	year := p.fixed(4, 0)
	p.lit('-')
	month := p.fixed(2, 12)
	p.lit('-')
	day := p.fixed(2, 99)
	p.lit('T')
	hour := p.hour()
	p.lit(':')
	min := p.fixed(2, 59)
	p.lit(':')
	sec := p.fixed(2, 59)
	nsec := p.fraction()
	offset, utc := p.zone()
	if p.bad || p.s != "" || month < 1 || day < 1 || day > daysIn(month, year) {
		return time.Time{}, errors.New("parse time " + strconv.Quote(s) + ": not RFC 3339")
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, nsec, time.UTC)
	if utc {
		return t, nil
	}
	t = t.Add(-time.Duration(offset) * time.Second)
	if _, off := t.In(time.Local).Zone(); off == offset {
		return t.In(time.Local), nil
	}
	return t.In(time.FixedZone("", offset)), nil
}

// parser consumes s from the front; bad sticks once a field fails.
type parser struct {
	s   string
	bad bool
}

// digits takes up to n leading digits, at least one.
func (p *parser) digits(n int) (v, got int) {
	for got < n && got < len(p.s) && p.s[got] >= '0' && p.s[got] <= '9' {
		v = v*10 + int(p.s[got]-'0')
		got++
	}
	if got == 0 {
		p.bad = true
	}
	p.s = p.s[got:]
	return v, got
}

// fixed takes exactly n digits, at most max (0: no bound).
func (p *parser) fixed(n, max int) int {
	v, got := p.digits(n)
	if got != n || max > 0 && v > max {
		p.bad = true
	}
	return v
}

// hour is layout "15": one or two digits, below 24.
func (p *parser) hour() int {
	v, _ := p.digits(2)
	if v > 23 {
		p.bad = true
	}
	return v
}

func (p *parser) lit(c byte) {
	if p.s == "" || p.s[0] != c {
		p.bad = true
		return
	}
	p.s = p.s[1:]
}

// fraction reads an optional ".ddd" or ",ddd" as nanoseconds.
func (p *parser) fraction() int {
	if len(p.s) < 2 || p.s[0] != '.' && p.s[0] != ',' || p.s[1] < '0' || p.s[1] > '9' {
		return 0
	}
	p.s = p.s[1:]
	ns, scale := 0, 100000000
	for p.s != "" && p.s[0] >= '0' && p.s[0] <= '9' {
		ns += int(p.s[0]-'0') * scale
		scale /= 10
		p.s = p.s[1:]
	}
	return ns
}

// zone reads "Z" (utc) or ±hh:mm as seconds east of UTC; time.Parse
// allows up to 24 hours and 60 minutes.
func (p *parser) zone() (offset int, utc bool) {
	if p.s != "" && p.s[0] == 'Z' {
		p.s = p.s[1:]
		return 0, true
	}
	if len(p.s) < 6 || p.s[3] != ':' || p.s[0] != '+' && p.s[0] != '-' {
		p.bad = true
		return 0, false
	}
	sign := p.s[0]
	p.s = p.s[1:]
	h := p.fixed(2, 24)
	p.s = p.s[1:]
	m := p.fixed(2, 60)
	offset = (h*60 + m) * 60
	if sign == '-' {
		offset = -offset
	}
	return offset, false
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
