package conntrack

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// The requests we send (dump, get, delete) are built here rather than
// through ti-mo/conntrack: its Conn.Get and Conn.Delete marshal every field
// a Flow can carry (protocol info, sequence adjustment, synproxy, labels,
// master tuple...), where we only ever send the original tuple and the
// zone, and the library with ti-mo/netfilter and pkg/errors was ~60 KB of
// the release binary (issue 16).

// Kernel ABI values of linux/netfilter/nfnetlink_conntrack.h (x/sys/unix
// has none). ctaTupleOrig, ctaTupleProto, ctaProtoNum and ctaProtoDstPort
// are in bpf_linux.go, ctGet in dump_linux.go, the ones only read in
// decode_linux.go.
const (
	ctDelete = 2 // IPCTNL_MSG_CT_DELETE

	ctaZone         = 18 // CTA_ZONE
	ctaTupleIP      = 1  // CTA_TUPLE_IP
	ctaIPv4Src      = 1  // CTA_IP_V4_SRC; CTA_IP_V4_DST follows
	ctaIPv6Src      = 3  // CTA_IP_V6_SRC; CTA_IP_V6_DST follows
	ctaProtoSrcPort = 2  // CTA_PROTO_SRC_PORT
)

var errTupleFamily = errors.New("tuple addresses are not both IPv4 or both IPv6")

// ctMessage is a ctnetlink request of type typ: the nfgenmsg header
// (family, NFNETLINK_V0, resource id 0) then the attributes.
func ctMessage(typ uint16, flags netlink.HeaderFlags, family byte, attrs []byte) netlink.Message {
	return netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_CTNETLINK<<8 | typ), Flags: flags},
		Data:   append([]byte{family, unix.NFNETLINK_V0, 0, 0}, attrs...),
	}
}

// appendAttr appends one attribute (host-order header, data padded to 4
// bytes).
func appendAttr(b []byte, typ uint16, data ...byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(4+len(data)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// appendNested appends a nested attribute holding children.
func appendNested(b []byte, typ uint16, children []byte) []byte {
	return appendAttr(b, typ|unix.NLA_F_NESTED, children...)
}

// entryRequest is a request of type typ for the entry with original tuple t
// (protocol l4) in zone. The message family is the tuple's: the kernel
// parses the addresses by it.
func entryRequest(typ uint16, l4 uint8, t Tuple, zone uint16) (netlink.Message, error) {
	fam, ipType := byte(unix.AF_INET), uint16(ctaIPv4Src)
	switch {
	case t.Src.Is4() && t.Dst.Is4():
	case t.Src.Is6() && t.Dst.Is6():
		fam, ipType = unix.AF_INET6, ctaIPv6Src
	default:
		return netlink.Message{}, errTupleFamily
	}
	ip := appendAttr(appendAttr(nil, ipType, t.Src.AsSlice()...), ipType+1, t.Dst.AsSlice()...)
	proto := appendAttr(nil, ctaProtoNum, l4)
	proto = appendAttr(proto, ctaProtoSrcPort, byte(t.SrcPort>>8), byte(t.SrcPort))
	proto = appendAttr(proto, ctaProtoDstPort, byte(t.DstPort>>8), byte(t.DstPort))
	attrs := appendNested(nil, ctaTupleOrig, appendNested(appendNested(nil, ctaTupleIP, ip), ctaTupleProto, proto))
	if zone != 0 {
		attrs = appendAttr(attrs, ctaZone, byte(zone>>8), byte(zone))
	}
	return ctMessage(typ, netlink.Request|netlink.Acknowledge, fam, attrs), nil
}

// queryEntry sends one entry request on c; for a get, it returns the entry
// the kernel answered with.
func queryEntry(c *netlink.Conn, typ uint16, l4 uint8, t Tuple, zone uint16) (*Flow, error) {
	req, err := entryRequest(typ, l4, t, zone)
	if err != nil {
		return nil, err
	}
	msgs, err := c.Execute(req)
	if err != nil || typ != ctGet {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, errors.New("no answer")
	}
	_, f, err := decodeMessage(uint16(msgs[0].Header.Type), uint16(msgs[0].Header.Flags), msgs[0].Data)
	if err != nil {
		return nil, fmt.Errorf("decode entry: %w", err)
	}
	return &f, nil
}
