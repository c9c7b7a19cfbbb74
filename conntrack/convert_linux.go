package conntrack

import (
	"github.com/vpnpass/vpnpass/vpn"
)

// fromKernel turns a decoded entry into what the diagnosis gets: addresses
// unmapped (an IPv4-mapped IPv6 address reads as IPv4) and Counted set.
func fromKernel(k *Flow) Flow {
	f := *k
	f.Orig = unmapped(k.Orig)
	f.Reply = unmapped(k.Reply)
	// With accounting on every flow has counted at least its first packet.
	f.Counted = f.CounterOrig.Packets > 0 || f.CounterReply.Packets > 0
	return f
}

func unmapped(t Tuple) Tuple {
	t.Src, t.Dst = t.Src.Unmap(), t.Dst.Unmap()
	return t
}

// isFootprint is the userspace half of the filter: cheap, on the raw tuple,
// before any conversion.
func isFootprint(k *Flow) bool {
	return vpn.KindOf(k.L4, k.Orig.DstPort) != vpn.KindNone
}
