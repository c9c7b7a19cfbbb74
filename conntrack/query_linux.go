package conntrack

import (
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	ct "github.com/ti-mo/conntrack"
	nf "github.com/ti-mo/netfilter"
)

// The two requests for one entry (get, delete) are built here rather than
// through ti-mo/conntrack's Conn.Get and Conn.Delete: those marshal every
// field a Flow can carry (protocol info, sequence adjustment, synproxy,
// labels, master tuple...), ~25 KB of the release binary, where we only
// ever send the original tuple and the zone (issue 16).

// Kernel ABI values of linux/netfilter/nfnetlink_conntrack.h (ti-mo keeps
// its names unexported; x/sys/unix has none). ctaTupleOrig, ctaTupleProto,
// ctaProtoNum and ctaProtoDstPort are in bpf_linux.go, ctGet in dump_linux.go.
const (
	ctDelete nf.MessageType = 2 // IPCTNL_MSG_CT_DELETE

	ctaZone         = 18 // CTA_ZONE
	ctaTupleIP      = 1  // CTA_TUPLE_IP
	ctaIPv4Src      = 1  // CTA_IP_V4_SRC; CTA_IP_V4_DST follows
	ctaIPv6Src      = 3  // CTA_IP_V6_SRC; CTA_IP_V6_DST follows
	ctaProtoSrcPort = 2  // CTA_PROTO_SRC_PORT
)

var errTupleFamily = errors.New("tuple addresses are not both IPv4 or both IPv6")

// entryRequest is a request of type typ for the entry with original tuple t
// (protocol l4) in zone. The message family is the tuple's: the kernel
// parses the addresses by it.
func entryRequest(typ nf.MessageType, l4 uint8, t Tuple, zone uint16) (netlink.Message, error) {
	fam, ipType := nf.ProtoIPv4, uint16(ctaIPv4Src)
	switch {
	case t.Src.Is4() && t.Dst.Is4():
	case t.Src.Is6() && t.Dst.Is6():
		fam, ipType = nf.ProtoIPv6, ctaIPv6Src
	default:
		return netlink.Message{}, errTupleFamily
	}
	attrs := []nf.Attribute{{Type: ctaTupleOrig, Nested: true, Children: []nf.Attribute{
		{Type: ctaTupleIP, Nested: true, Children: []nf.Attribute{
			{Type: ipType, Data: t.Src.AsSlice()},
			{Type: ipType + 1, Data: t.Dst.AsSlice()},
		}},
		{Type: ctaTupleProto, Nested: true, Children: []nf.Attribute{
			{Type: ctaProtoNum, Data: []byte{l4}},
			{Type: ctaProtoSrcPort, Data: nf.Uint16Bytes(t.SrcPort)},
			{Type: ctaProtoDstPort, Data: nf.Uint16Bytes(t.DstPort)},
		}},
	}}}
	if zone != 0 {
		attrs = append(attrs, nf.Attribute{Type: ctaZone, Data: nf.Uint16Bytes(zone)})
	}
	return nf.MarshalNetlink(nf.Header{SubsystemID: nf.NFSubsysCTNetlink, MessageType: typ,
		Family: fam, Flags: netlink.Request | netlink.Acknowledge}, attrs)
}

// queryEntry sends one entry request on c; for a get, it returns the entry
// the kernel answered with.
func queryEntry(c *netlink.Conn, typ nf.MessageType, l4 uint8, t Tuple, zone uint16) (*ct.Flow, error) {
	req, err := entryRequest(typ, l4, t, zone)
	if err != nil {
		return nil, err
	}
	msgs, err := c.Execute(req)
	if err != nil || typ != ctGet {
		return nil, err
	}
	var ev ct.Event
	if len(msgs) == 0 {
		return nil, errors.New("no answer")
	}
	if err := ev.Unmarshal(msgs[0]); err != nil {
		return nil, fmt.Errorf("decode entry: %w", err)
	}
	if ev.Flow == nil {
		return nil, errors.New("answer holds no entry")
	}
	return ev.Flow, nil
}
