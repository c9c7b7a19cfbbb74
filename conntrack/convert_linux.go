package conntrack

import (
	"github.com/vpnpass/vpnpass/vpn"
)

// fromKernel turns a decoded entry, in place, into what the diagnosis
// gets: addresses unmapped (an IPv4-mapped IPv6 address reads as IPv4) and
// Counted set. It returns f, so a call site reads *f.fromKernel().
func (f *Flow) fromKernel() *Flow {
	f.Orig.unmap()
	f.Reply.unmap()
	// With accounting on every flow has counted at least its first packet.
	f.Counted = f.CounterOrig.Packets > 0 || f.CounterReply.Packets > 0
	return f
}

func (t *Tuple) unmap() { t.Src, t.Dst = t.Src.Unmap(), t.Dst.Unmap() }

// isFootprint is the userspace half of the filter: cheap, on the raw tuple,
// before any conversion.
func isFootprint(k *Flow) bool {
	return vpn.KindOf(k.L4, k.Orig.DstPort) != vpn.KindNone
}
