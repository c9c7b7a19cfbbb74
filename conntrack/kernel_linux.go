package conntrack

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// accountingSysctl turns per-flow packet and byte counters on. It is per
// network namespace: /proc/sys/net resolves to the namespace of the thread
// that opens it.
const accountingSysctl = "/proc/sys/net/netfilter/nf_conntrack_acct"

// EnableAccounting turns on conntrack accounting (net.netfilter.
// nf_conntrack_acct) in the calling thread's network namespace and reports
// whether it was off before. Only flows created afterwards are counted.
func EnableAccounting() (changed bool, err error) {
	b, err := os.ReadFile(accountingSysctl)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", accountingSysctl, err)
	}
	if strings.TrimSpace(string(b)) == "1" {
		return false, nil
	}
	if err := os.WriteFile(accountingSysctl, []byte("1"), 0o644); err != nil {
		return false, fmt.Errorf("write 1 to %s: %w", accountingSysctl, err)
	}
	return true, nil
}

// DeleteFootprints deletes the conntrack entries of the footprint elements
// in match from the calling thread's network namespace, in one dump of the
// table, streamed (the kernel-side dump filters know marks, zones and status, not
// protocols or ports, so the elements are matched in one pass here). It
// returns how many entries it deleted. Only a mode change calls it, so that
// existing flows meet the new rules: a helper only attaches to new
// connections, a block must hit established flows, and offloaded flows skip
// the forward chain until their entry goes. Drift repairs never call it: a
// repair restores the same verdicts, and deleting would cut live sessions.
func DeleteFootprints(match []FlowMatch) (int, error) {
	if len(match) == 0 {
		return 0, nil
	}
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, nil)
	if err != nil {
		return 0, fmt.Errorf("open conntrack socket: %w", err)
	}
	defer c.Close()
	// Deleted from inside the dump, on the other socket (as conntrack -D
	// does): nothing is held, however many entries match.
	n := 0
	err = dumpEach(0, func(f *Flow) error {
		if !matchesAny(match, f.L4, f.Orig.DstPort) {
			return nil
		}
		// Only the identity: the original tuple and the zone the kernel
		// looks the entry up by (not Unmap-ped: the family must stay the
		// entry's).
		t := f.Orig
		if _, err := queryEntry(c, ctDelete, f.L4, t, f.Zone); err != nil {
			if errors.Is(err, unix.ENOENT) {
				return nil // expired meanwhile (or went with its PPTP master)
			}
			return fmt.Errorf("delete conntrack entry %s: %w", Flow{L4: f.L4, Orig: t}, err)
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("delete footprint entries: %w", err)
	}
	return n, nil
}
