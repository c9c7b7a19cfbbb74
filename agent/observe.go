package agent

import (
	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/netfilter/observer"
)

// readObserverCounts reads the observer table (netfilter/observer) and names
// each counter's element for the diagnosis; counters of keys the diagnosis
// does not know are left out.
func readObserverCounts() ([]conntrack.ObserverEntry, error) {
	counts, err := observer.Read()
	if err != nil {
		return nil, err
	}
	return observerEntries(counts), nil
}

func observerEntries(counts []observer.Count) []conntrack.ObserverEntry {
	out := make([]conntrack.ObserverEntry, 0, len(counts))
	for _, c := range counts {
		el, ok := conntrack.ObserverElementOf(c.Proto, c.Port)
		if !ok {
			continue
		}
		dir := conntrack.DirOut
		if c.Answer {
			dir = conntrack.DirIn
		}
		out = append(out, conntrack.ObserverEntry{Host: c.Host, Peer: c.Peer, Element: el, Direction: dir,
			Packets: c.Packets, Bytes: c.Bytes, Expires: c.Expires})
	}
	return out
}
