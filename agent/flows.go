package agent

import (
	"fmt"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/conntrack"
)

// ForgetFlows deletes the conntrack entries of the footprints of ps, whose
// modes changed, in one pass over the table, so existing flows are judged
// again by the new rules (a helper only attaches to new connections; a block
// must also hit established flows). Other protocols' flows stay.
func ForgetFlows(ps []vpn.Protocol) error {
	if _, err := conntrack.DeleteFootprints(conntrack.FootprintMatches(ps)); err != nil {
		return fmt.Errorf("forget the flows of %v: %w", ps, err)
	}
	return nil
}
