package conntrack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// Our own decoder of ctnetlink flow messages (events, dump entries, get
// answers), reading only the fields Flow keeps. It replaced ti-mo/conntrack's
// Event.Unmarshal (issue 16: with ti-mo/netfilter and pkg/errors ~60 KB of
// the release binary, and a copy of every attribute per message). Where
// ti-mo decodes a message without error, this decoder yields the same
// values (FuzzDecodeFlow and the kernel cross-checks compare them). It is
// stricter nowhere and more lenient in one way: attributes we do not read
// (protocol info, master tuple, sequence adjustment, labels...) and unknown
// children are skipped, not validated, so a kernel that adds one (or pads
// a 64-bit timestamp with CTA_TIMESTAMP_PAD, as a kernel without efficient
// unaligned access, MIPS, may) does not cost the whole flow.

// Attribute types of linux/netfilter/nfnetlink_conntrack.h not named in
// bpf_linux.go or query_linux.go.
const (
	ctaTupleReply    = 2  // CTA_TUPLE_REPLY
	ctaStatus        = 3  // CTA_STATUS
	ctaHelp          = 5  // CTA_HELP (nested: CTA_HELP_NAME = 1)
	ctaTimeout       = 7  // CTA_TIMEOUT
	ctaMark          = 8  // CTA_MARK
	ctaCountersOrig  = 9  // CTA_COUNTERS_ORIG (nested: CTA_COUNTERS_PACKETS = 1, _BYTES = 2)
	ctaCountersReply = 10 // CTA_COUNTERS_REPLY
	ctaID            = 12 // CTA_ID
	ctaTimestamp     = 20 // CTA_TIMESTAMP (nested: CTA_TIMESTAMP_START = 1, _STOP = 2)

	ctaIPv4Dst = 2 // CTA_IP_V4_DST
	ctaIPv6Dst = 4 // CTA_IP_V6_DST

	ctNew = 0 // IPCTNL_MSG_CT_NEW: events NEW and UPDATE, dump entries, get answers

	// attrTypeMask keeps the low byte of an attribute type: every ctnetlink
	// type is below 256, and ti-mo read them as uint8, so reading them so
	// keeps the two decoders identical (FuzzDecodeFlow found the difference).
	// It also drops NLA_F_NESTED and NLA_F_NET_BYTEORDER.
	attrTypeMask = 0xff
)

// One error each for a malformed attribute (bad length, or the wrong size
// for its type) and a message that is no flow: the watcher only counts
// them, a get names the step.
var (
	errAttr    = errors.New("malformed conntrack attribute")
	errNotFlow = errors.New("not a conntrack flow message")
)

// attrs walks a netlink attribute stream (host-order headers, 4-byte
// aligned) without copying: typ and data are views into the stream. Like
// the netlink library's decoder it visits an attribute of length 0 (with no
// data) and rejects lengths 1 to 3 and lengths beyond the buffer (err); a
// tail shorter than a header is ignored. A loop over next, not a callback
// per attribute: no closures or method values (docs/design.md#size).
type attrs struct {
	b    []byte
	typ  uint16
	data []byte
	err  error
}

// next steps to the next attribute: false at the end or on a bad length.
func (a *attrs) next() bool {
	b := a.b
	if len(b) < 4 {
		return false
	}
	n := int(binary.NativeEndian.Uint16(b))
	a.typ = binary.NativeEndian.Uint16(b[2:]) & attrTypeMask
	a.data = nil
	switch {
	case n > len(b) || n > 0 && n < 4:
		a.err = errAttr
		return false
	case n >= 4:
		a.data = b[4:n]
	}
	if n = (max(n, 4) + 3) &^ 3; n > len(b) {
		n = len(b)
	}
	a.b = b[n:]
	return true
}

// be16, be32 and be64 read a big-endian attribute of exactly that size.
func be16(d []byte) (uint16, error) {
	if len(d) != 2 {
		return 0, errAttr
	}
	return binary.BigEndian.Uint16(d), nil
}

func be32(d []byte) (uint32, error) {
	if len(d) != 4 {
		return 0, errAttr
	}
	return binary.BigEndian.Uint32(d), nil
}

func be64(d []byte) (uint64, error) {
	if len(d) != 8 {
		return 0, errAttr
	}
	return binary.BigEndian.Uint64(d), nil
}

// decodeMessage decodes one ctnetlink message (header type, flags and
// body: nfgenmsg then attributes). The flow's addresses are as the kernel
// sent them (not unmapped): DeleteFootprints must ask by the entry's own
// family. Counted is left to Flow.fromKernel.
func decodeMessage(typ, flags uint16, body []byte) (EventType, Flow, error) {
	var f Flow
	if typ>>8 != unix.NFNL_SUBSYS_CTNETLINK {
		return 0, f, errNotFlow
	}
	et := EventDestroy
	switch typ & 0xff {
	case ctNew:
		et = EventUpdate
		if flags&(unix.NLM_F_CREATE|unix.NLM_F_EXCL) != 0 {
			et = EventNew
		}
	case uint16(ctDelete):
	default:
		return 0, f, errNotFlow
	}
	if len(body) < 4 {
		return 0, f, errNotFlow
	}
	a := attrs{b: body[4:]}
	for a.err == nil && a.next() {
		a.err = f.decodeAttr(a.typ, a.data)
	}
	return et, f, a.err
}

// decodeAttr decodes one top-level attribute of a flow message. A repeated
// attribute overwrites what the earlier one set, as in ti-mo.
func (f *Flow) decodeAttr(typ uint16, d []byte) (err error) {
	switch typ {
	case ctaTupleOrig:
		return decodeTuple(d, &f.Orig, &f.L4)
	case ctaTupleReply:
		var l4 uint8
		return decodeTuple(d, &f.Reply, &l4)
	case ctaStatus:
		var s uint32
		s, err = be32(d)
		f.Status = Status(s)
	case ctaTimeout:
		f.TimeoutSecond, err = be32(d)
	case ctaID:
		f.ID, err = be32(d)
	case ctaMark:
		f.Mark, err = be32(d)
	case ctaZone:
		f.Zone, err = be16(d)
	case ctaHelp, ctaCountersOrig, ctaCountersReply, ctaTimestamp:
		a := attrs{b: d}
		for a.err == nil && a.next() {
			a.err = f.decodeChild(typ, a.typ, a.data)
		}
		return a.err
	}
	return err
}

// decodeChild decodes child sub of the nested attribute typ: the helper's
// name (CTA_HELP_NAME, NUL-terminated), or the two 64-bit values of the
// counters (packets, bytes) and the timestamp (start, stop). Their pads
// and other children are skipped.
func (f *Flow) decodeChild(typ, sub uint16, d []byte) error {
	switch {
	case typ == ctaHelp:
		if sub == 1 {
			f.Helper = string(bytes.TrimRight(d, "\x00"))
		}
		return nil
	case sub != 1 && sub != 2:
		return nil
	}
	v, err := be64(d)
	switch typ<<8 | sub {
	case ctaCountersOrig<<8 | 1:
		f.CounterOrig.Packets = v
	case ctaCountersOrig<<8 | 2:
		f.CounterOrig.Bytes = v
	case ctaCountersReply<<8 | 1:
		f.CounterReply.Packets = v
	case ctaCountersReply<<8 | 2:
		f.CounterReply.Bytes = v
	case ctaTimestamp<<8 | 1:
		f.Start = time.Unix(0, int64(v))
	default:
		f.Stop = time.Unix(0, int64(v))
	}
	return err
}

// decodeTuple decodes CTA_TUPLE_ORIG or CTA_TUPLE_REPLY into t and the
// protocol into l4. Each CTA_TUPLE_IP and CTA_TUPLE_PROTO replaces the
// addresses or protocol and ports wholly. For GRE the kernel puts the keys
// (PPTP call IDs) where the ports go; ICMP ids are not read.
func decodeTuple(b []byte, t *Tuple, l4 *uint8) error {
	a := attrs{b: b}
	for a.err == nil && a.next() {
		switch a.typ {
		case ctaTupleIP:
			a.err = t.decodeAddrs(a.data)
		case ctaTupleProto:
			a.err = t.decodeProto(a.data, l4)
		}
	}
	return a.err
}

// decodeAddrs decodes CTA_TUPLE_IP: both addresses are replaced, by the
// zero address where one is missing.
func (t *Tuple) decodeAddrs(d []byte) error {
	var ip Tuple
	a := attrs{b: d}
	for a.err == nil && a.next() {
		a.err = ip.decodeAddr(a.typ, a.data)
	}
	t.Src, t.Dst = ip.Src, ip.Dst
	return a.err
}

// decodeProto decodes CTA_TUPLE_PROTO: the protocol number and both ports
// are replaced, by zero where one is missing.
func (t *Tuple) decodeProto(d []byte, l4 *uint8) error {
	var p Tuple
	var num uint8
	a := attrs{b: d}
	for a.err == nil && a.next() {
		switch a.typ {
		case ctaProtoNum:
			if len(a.data) != 1 {
				a.err = errAttr
				break
			}
			num = a.data[0]
		case ctaProtoSrcPort:
			p.SrcPort, a.err = be16(a.data)
		case ctaProtoDstPort:
			p.DstPort, a.err = be16(a.data)
		}
	}
	t.SrcPort, t.DstPort, *l4 = p.SrcPort, p.DstPort, num
	return a.err
}

// decodeAddr reads one address of CTA_TUPLE_IP.
func (t *Tuple) decodeAddr(typ uint16, d []byte) error {
	a, ok := netip.AddrFromSlice(d)
	switch {
	case typ != ctaIPv4Src && typ != ctaIPv4Dst && typ != ctaIPv6Src && typ != ctaIPv6Dst:
		return nil
	case !ok:
		return errAttr
	case typ == ctaIPv4Src || typ == ctaIPv6Src:
		t.Src = a
	default:
		t.Dst = a
	}
	return nil
}
