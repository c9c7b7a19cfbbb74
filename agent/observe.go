package agent

import (
	"github.com/vpnpass/vpnpass/netfilter/observer"
	"github.com/vpnpass/vpnpass/vpn"
)

// readObserverCounts reads the observer table (netfilter/observer); its
// counters come named by their footprint element.
func readObserverCounts() ([]vpn.ObserverEntry, error) { return observer.Read() }
