// Package metrics writes the Prometheus text exposition format (version
// 0.0.4) with a few hundred lines of our own instead of the client library,
// which would cost flash (it links net/http and more): families of counters
// and gauges, label escaping, and the atomic textfile that node-exporter's
// textfile collector reads (docs/metrics.md).
package metrics

import (
	"math"
	"strconv"
	"strings"
)

// ContentType is the exposition format's media type.
const ContentType = "text/plain; version=0.0.4"

// Type is a metric family's TYPE.
type Type string

// The types we use.
const (
	Counter Type = "counter"
	Gauge   Type = "gauge"
)

// Writer builds one exposition. Families must be written whole and once
// each (the format forbids interleaving); samples of a family follow its
// Family call.
type Writer struct {
	b strings.Builder
}

// Family starts a metric family: its HELP and TYPE lines.
func (w *Writer) Family(name string, t Type, help string) {
	w.b.WriteString("# HELP " + name + " " + escapeHelp(help) + "\n")
	w.b.WriteString("# TYPE " + name + " " + string(t) + "\n")
}

// Sample writes one sample; labels are name, value pairs.
func (w *Writer) Sample(name string, v float64, labels ...string) {
	w.b.WriteString(name)
	if len(labels) >= 2 {
		w.b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				w.b.WriteByte(',')
			}
			w.b.WriteString(labels[i] + `="` + escapeValue(labels[i+1]) + `"`)
		}
		w.b.WriteByte('}')
	}
	w.b.WriteByte(' ')
	w.b.WriteString(formatValue(v))
	w.b.WriteByte('\n')
}

// String is the exposition so far.
func (w *Writer) String() string { return w.b.String() }

// formatValue spells a value as the format wants it: integers without an
// exponent (counters read better so), Inf and NaN by name.
func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// escapeValue escapes a label value: backslash, double quote and newline.
func escapeValue(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	return escape(s, true)
}

// escapeHelp escapes HELP text: backslash and newline.
func escapeHelp(s string) string {
	if !strings.ContainsAny(s, "\\\n") {
		return s
	}
	return escape(s, false)
}

func escape(s string, quote bool) string {
	b := make([]byte, 0, len(s)+4)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return string(b)
}
