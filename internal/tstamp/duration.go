package tstamp

import (
	"errors"
	"strconv"
	"time"
)

// ParseDuration is time.ParseDuration: a signed sequence of decimal numbers,
// each with an optional fraction and a unit ("ns", "us"/"µs"/"μs", "ms",
// "s", "m", "h"), "0" alone allowed. The arithmetic is time's, fraction
// rounding included, so both agree to the nanosecond.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, badDuration(orig)
	}
	var d uint64
	for s != "" {
		if s[0] != '.' && (s[0] < '0' || s[0] > '9') {
			return 0, badDuration(orig)
		}
		n := len(s)
		v, rest, ok := leadingInt(s)
		if !ok {
			return 0, badDuration(orig)
		}
		pre := n != len(rest)
		s = rest
		post := false
		var f uint64
		scale := 1.0
		if s != "" && s[0] == '.' {
			s = s[1:]
			n := len(s)
			f, scale, s = leadingFraction(s)
			post = n != len(s)
		}
		if !pre && !post {
			return 0, badDuration(orig)
		}
		i := 0
		for i < len(s) && s[i] != '.' && (s[i] < '0' || s[i] > '9') {
			i++
		}
		unit := unitOf(s[:i])
		if unit == 0 {
			return 0, badDuration(orig)
		}
		s = s[i:]
		if v > 1<<63/unit {
			return 0, badDuration(orig)
		}
		v *= unit
		if f > 0 {
			// float64 keeps fractions of hours nanosecond-exact, as in time.
			v += uint64(float64(f) * (float64(unit) / scale))
			if v > 1<<63 {
				return 0, badDuration(orig)
			}
		}
		d += v
		if d > 1<<63 {
			return 0, badDuration(orig)
		}
	}
	if neg {
		return -time.Duration(d), nil
	}
	if d > 1<<63-1 {
		return 0, badDuration(orig)
	}
	return time.Duration(d), nil
}

func badDuration(s string) error {
	return errors.New("time: invalid duration " + strconv.Quote(s))
}

// unitOf is a unit's length in nanoseconds, 0 if unknown.
func unitOf(u string) uint64 {
	switch u {
	case "ns":
		return 1
	case "us", "µs", "μs": // U+00B5 and U+03BC
		return uint64(time.Microsecond)
	case "ms":
		return uint64(time.Millisecond)
	case "s":
		return uint64(time.Second)
	case "m":
		return uint64(time.Minute)
	case "h":
		return uint64(time.Hour)
	}
	return 0
}

// leadingInt consumes leading digits; ok is false past 1<<63.
func leadingInt(s string) (x uint64, rest string, ok bool) {
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if x > 1<<63/10 {
			return 0, "", false
		}
		x = x*10 + uint64(s[i]-'0')
		if x > 1<<63 {
			return 0, "", false
		}
	}
	return x, s[i:], true
}

// leadingFraction consumes the digits after a '.': their value while it
// fits, and the power of ten to divide by.
func leadingFraction(s string) (x uint64, scale float64, rest string) {
	i := 0
	scale = 1
	overflow := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if overflow {
			continue
		}
		if x > (1<<63-1)/10 {
			overflow = true
			continue
		}
		y := x*10 + uint64(s[i]-'0')
		if y > 1<<63 {
			overflow = true
			continue
		}
		x = y
		scale *= 10
	}
	return x, scale, s[i:]
}
