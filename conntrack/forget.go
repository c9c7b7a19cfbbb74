package conntrack

import "github.com/vpnpass/vpnpass/vpn"

// FlowMatch selects conntrack entries by their original tuple: IP protocol
// and, for TCP and UDP, destination port (0 matches every port, and is the
// only choice for GRE, ESP and AH). Both address families at once.
type FlowMatch struct {
	L4   uint8
	Port uint16
}

// FootprintMatches returns the matches of the protocols' footprints, each
// once (a footprint lists every element per address family).
func FootprintMatches(ps []vpn.Protocol) []FlowMatch {
	var out []FlowMatch
	seen := map[FlowMatch]bool{}
	for _, p := range ps {
		for _, e := range vpn.Footprint(p) {
			m := FlowMatch{L4: e.L4, Port: e.Port}
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out
}

func matchesAny(ms []FlowMatch, l4 uint8, port uint16) bool {
	for _, m := range ms {
		if m.L4 == l4 && (m.Port == 0 || m.Port == port) {
			return true
		}
	}
	return false
}
