package conntrack

import (
	ct "github.com/ti-mo/conntrack"
	"github.com/vpnpass/vpnpass/vpn"
)

// fromKernel converts ti-mo's flow into ours, keeping only what the
// diagnosis reads.
func fromKernel(k *ct.Flow) Flow {
	f := Flow{
		ID:            k.ID,
		L4:            k.TupleOrig.Proto.Protocol,
		Orig:          tupleOf(k.TupleOrig),
		Reply:         tupleOf(k.TupleReply),
		Status:        Status(k.Status),
		Helper:        k.Helper.Name,
		Zone:          k.Zone,
		Mark:          k.Mark,
		Start:         k.Timestamp.Start,
		Stop:          k.Timestamp.Stop,
		TimeoutSecond: k.Timeout,
	}
	f.CounterOrig = Counter{Packets: k.CountersOrig.Packets, Bytes: k.CountersOrig.Bytes}
	f.CounterReply = Counter{Packets: k.CountersReply.Packets, Bytes: k.CountersReply.Bytes}
	// With accounting on every flow has counted at least its first packet.
	f.Counted = f.CounterOrig.Packets > 0 || f.CounterReply.Packets > 0
	return f
}

func tupleOf(t ct.Tuple) Tuple {
	return Tuple{
		Src:     t.IP.SourceAddress.Unmap(),
		Dst:     t.IP.DestinationAddress.Unmap(),
		SrcPort: t.Proto.SourcePort,
		DstPort: t.Proto.DestinationPort,
	}
}

// isFootprint is the userspace half of the filter: cheap, on the raw tuple,
// before any conversion.
func isFootprint(k *ct.Flow) bool {
	return vpn.KindOf(k.TupleOrig.Proto.Protocol, k.TupleOrig.Proto.DestinationPort) != vpn.KindNone
}
