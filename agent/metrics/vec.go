package metrics

import (
	"sort"
	"strings"
	"sync"
)

// CounterVec is a counter family with fixed label names, safe for
// concurrent use. Its label values must come from closed sets (codes,
// kinds, protocols), never from addresses or names: the cardinality of a
// fleet's Prometheus is the product of them.
type CounterVec struct {
	Name, Help string
	Labels     []string

	mu     sync.Mutex
	counts map[string]uint64 // label values joined by sep
}

// sep joins label values in keys; it cannot occur in our values.
const sep = "\x00"

// Add adds n to the series with these label values (as many as Labels).
func (c *CounterVec) Add(n uint64, values ...string) {
	if len(values) != len(c.Labels) {
		panic("metrics: " + c.Name + ": wrong number of label values")
	}
	k := strings.Join(values, sep)
	c.mu.Lock()
	if c.counts == nil {
		c.counts = map[string]uint64{}
	}
	c.counts[k] += n
	c.mu.Unlock()
}

// Inc adds one.
func (c *CounterVec) Inc(values ...string) { c.Add(1, values...) }

// Init makes the series exist at 0, so that increase() sees its first
// event (a series that appears at 1 has no increase in Prometheus).
func (c *CounterVec) Init(values ...string) { c.Add(0, values...) }

// Get is a series' value (tests, and derived gauges).
func (c *CounterVec) Get(values ...string) uint64 {
	k := strings.Join(values, sep)
	c.mu.Lock() // no defer: a map read cannot panic (smaller code)
	n := c.counts[k]
	c.mu.Unlock()
	return n
}

// Write writes the family, series in label order (stable output).
func (c *CounterVec) Write(w *Writer) {
	c.mu.Lock()
	keys := make([]string, 0, len(c.counts))
	for k := range c.counts {
		keys = append(keys, k)
	}
	vals := make([]uint64, len(keys))
	sort.StringSlice(keys).Sort()
	for i, k := range keys {
		vals[i] = c.counts[k]
	}
	c.mu.Unlock()
	w.Family(c.Name, Counter, c.Help)
	labels := make([]string, 2*len(c.Labels))
	for i, k := range keys {
		values := strings.Split(k, sep)
		for j, name := range c.Labels {
			labels[2*j], labels[2*j+1] = name, values[j]
		}
		w.Sample(c.Name, float64(vals[i]), labels...)
	}
}
