package agent

import (
	"errors"
	"fmt"

	"github.com/vpnpass/vpnpass/conntrack"
	"github.com/vpnpass/vpnpass/netfilter"
)

// ForgetFlows deletes the conntrack entries of p's footprint after its mode
// changed, so existing flows are judged again by the new rules (a helper only
// attaches to new connections; a block must also hit established flows).
func ForgetFlows(p netfilter.Protocol) error {
	seen := map[netfilter.Element]bool{}
	var errs []error
	for _, e := range netfilter.Footprint(p) {
		key := netfilter.Element{L4: e.L4, Port: e.Port} // both families at once
		if seen[key] {
			continue
		}
		seen[key] = true
		if _, err := conntrack.DeleteFootprint(e.L4, e.Port); err != nil {
			errs = append(errs, fmt.Errorf("forget %s flows: %w", e.Match(), err))
		}
	}
	return errors.Join(errs...)
}
