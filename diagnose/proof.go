package diagnose

import (
	"time"

	"github.com/vpnpass/vpnpass/vpn"
)

// addProof adds to vpn-ok's params what shows that the session works: the
// footprint elements that answered ("answered": conntrack matches of
// answered flows, observer elements counted from the server), when the
// first answer came ("since") and when data first came back
// ("data_since"), the packets and bytes each way, and whether a flow went
// to a flowtable's fast path ("offloaded").
func (f facts) addProof(out map[string]any) {
	s := f.s
	answered := []string{}
	var since time.Time
	offloaded := false
	for _, fl := range s.Flows {
		if fl.Answered() || !isZero(&fl.FastBoth) {
			answered = addOnce(answered, fl.Kind.Match())
			earliest(&since, &fl.AnsweredAt)
			earliest(&since, &fl.FastBoth)
		}
		offloaded = offloaded || !isZero(&fl.OffloadedAt)
	}
	for _, o := range s.Observed {
		if o.Direction == vpn.DirIn && o.Packets > 0 {
			answered = addOnce(answered, string(o.Element))
			earliest(&since, &o.FirstSeen)
		}
	}
	t := f.traffic()
	setParams(out, "answered", answered, "offloaded", offloaded,
		"packets_out", t[0].Packets, "packets_in", t[1].Packets, "bytes_out", t[0].Bytes, "bytes_in", t[1].Bytes)
	if !isZero(&since) {
		out["since"] = rfc3339(&since)
	}
	if !isZero(&s.DataAnswered) {
		out["data_since"] = rfc3339(&s.DataAnswered)
	}
}

// earliest sets *since to *t when t is set and earlier (or since is unset).
func earliest(since, t *time.Time) {
	if !isZero(t) && (isZero(since) || before(t, since)) {
		*since = *t
	}
}

// count is packets and bytes of one direction.
type count struct{ Packets, Bytes uint64 }

// traffic sums the session's packets out (0) and in (1). Per footprint
// part it takes the larger of conntrack's counters (current as of the
// flow's last event or refresh) and the observer's (current as of the last
// read): both count the same packets, each misses some.
func (f facts) traffic() [2]count {
	var parts []partCount
	for _, fl := range f.s.Flows {
		c := &partOf(&parts, fl.Kind).ct
		c[0].Packets += fl.Flow.CounterOrig.Packets
		c[0].Bytes += fl.Flow.CounterOrig.Bytes
		c[1].Packets += fl.Flow.CounterReply.Packets
		c[1].Bytes += fl.Flow.CounterReply.Bytes
	}
	for _, o := range f.s.Observed {
		c, d := &partOf(&parts, o.Element.Kind()).obs, 0
		if o.Direction == vpn.DirIn {
			d = 1
		}
		c[d].Packets += o.Packets
		c[d].Bytes += o.Bytes
	}
	var out [2]count
	for _, p := range parts {
		for d := 0; d < 2; d++ {
			out[d].Packets += max(p.ct[d].Packets, p.obs[d].Packets)
			out[d].Bytes += max(p.ct[d].Bytes, p.obs[d].Bytes)
		}
	}
	return out
}

// partCount is one footprint part's counts: conntrack's and the
// observer's, out (0) and in (1).
type partCount struct {
	kind    vpn.Kind
	ct, obs [2]count
}

// partOf returns the counts of kind k in parts, adding them when missing.
func partOf(parts *[]partCount, k vpn.Kind) *partCount {
	for i := range *parts {
		if (*parts)[i].kind == k {
			return &(*parts)[i]
		}
	}
	*parts = append(*parts, partCount{kind: k})
	return &(*parts)[len(*parts)-1]
}
