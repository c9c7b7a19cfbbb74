package conntrack

import (
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Refresh reads the current state of the given flows (by original tuple and
// zone) from the conntrack table of the calling thread's namespace. Flows
// in a flowtable (Status.Offloaded) produce no events: their packets bypass
// conntrack, and only the flowtable's counters (fw4 sets its counter flag)
// reach the entry, so reading the entry is the one way to see them move.
// A flow that is gone is left out; Refresh never deletes or changes entries.
func Refresh(flows []Flow) ([]Flow, error) {
	if len(flows) == 0 {
		return nil, nil
	}
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, nil)
	if err != nil {
		return nil, fmt.Errorf("open conntrack socket: %w", err)
	}
	defer c.Close()
	var out []Flow
	for _, f := range flows {
		k, err := queryEntry(c, ctGet, f.L4, f.Orig, f.Zone)
		if errors.Is(err, unix.ENOENT) {
			continue // gone: its DESTROY event tells the tracker
		}
		if err != nil {
			return out, fmt.Errorf("get conntrack entry %s: %w", f, err)
		}
		out = append(out, *k.fromKernel())
	}
	return out, nil
}
