package conntrack

import (
	"fmt"
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"
	"time"
)

// Tuple is one direction of a conntrack entry. For TCP and UDP the ports are
// ports; for GRE they are the PPTP call IDs (the kernel stores GRE keys where
// ports would be); for ESP, AH and other protocols they are zero.
type Tuple struct {
	Src     netip.Addr
	Dst     netip.Addr
	SrcPort uint16
	DstPort uint16
}

// Status holds conntrack status bits (IPS_* in the kernel).
type Status uint32

// The status bits we read. Values are the kernel's (include/uapi/linux/
// netfilter/nf_conntrack_common.h).
const (
	StatusExpected  Status = 1 << 0
	StatusSeenReply Status = 1 << 1
	StatusAssured   Status = 1 << 2
	StatusConfirmed Status = 1 << 3
	StatusSrcNAT    Status = 1 << 4
	StatusDstNAT    Status = 1 << 5
	// StatusOffload: the flow sits in a flowtable (fw4's flow_offloading):
	// its packets bypass the forward hook and conntrack, so no event
	// follows and only the flowtable's counters (when it has the counter
	// flag) reach the entry. StatusHWOffload: a NIC or switch carries it.
	StatusOffload   Status = 1 << 14
	StatusHWOffload Status = 1 << 15
)

// SeenReply reports whether a packet came back in the reply direction.
func (s Status) SeenReply() bool { return s&StatusSeenReply != 0 }

// Assured reports whether the kernel considers the flow established: for UDP,
// traffic both ways for longer than two seconds; for TCP, the handshake done.
func (s Status) Assured() bool { return s&StatusAssured != 0 }

// Offloaded reports whether the flow is in a flowtable (software or
// hardware): the kernel forwards it on the fast path.
func (s Status) Offloaded() bool { return s&(StatusOffload|StatusHWOffload) != 0 }

// Expected reports whether a helper's expectation created the flow (PPTP GRE).
func (s Status) Expected() bool { return s&StatusExpected != 0 }

// Counter is a packet and byte count of one direction. Zero unless the kernel
// has accounting on (nf_conntrack_acct).
type Counter struct {
	Packets uint64
	Bytes   uint64
}

// Flow is a snapshot of one conntrack entry, reduced to what the diagnosis
// needs and independent of the netlink library.
type Flow struct {
	_     [0]func() // not comparable: no generated equality function (binary size)
	ID    uint32
	L4    uint8 // IP protocol number: netfilter.ProtoUDP, ProtoTCP, ProtoGRE, ...
	Orig  Tuple // as the initiator sent it (before NAT)
	Reply Tuple // as the answer is expected (after NAT: Reply.Dst is the NATed source)

	Status Status
	// Counted is true when the kernel reported counters (accounting on).
	Counted       bool
	CounterOrig   Counter
	CounterReply  Counter
	Helper        string // conntrack helper attached, e.g. "pptp"; "" when none
	Zone          uint16
	Mark          uint32
	Start, Stop   time.Time // kernel timestamps, zero unless nf_conntrack_timestamp is on
	TimeoutSecond uint32    // seconds left until the kernel expires the entry
}

// SrcNATed reports whether the router rewrote the source of this flow: the
// reply is addressed to someone other than the initiator.
func (f Flow) SrcNATed() bool {
	return f.Reply.Dst.IsValid() && f.Orig.Src.IsValid() && f.Reply.Dst != f.Orig.Src
}

// GREKeyed reports, for a GRE flow, whether the kernel tracks it by PPTP call
// IDs. Without a PPTP helper the kernel knows no key for the initiator's side
// (conntrack shows srckey=0x0): the reply cannot be matched to the flow and,
// behind NAT, is delivered to the router itself.
func (f Flow) GREKeyed() bool {
	return f.L4 == vpn.ProtoGRE && f.Orig.SrcPort != 0
}

// String renders the flow for evidence and test failures.
func (f Flow) String() string {
	return fmt.Sprintf("%s %s -> %s", vpn.L4Name(f.L4), hostPort(f.Orig.Src, f.Orig.SrcPort, f.L4), hostPort(f.Orig.Dst, f.Orig.DstPort, f.L4))
}

func hostPort(a netip.Addr, port uint16, l4 uint8) string {
	if l4 != vpn.ProtoTCP && l4 != vpn.ProtoUDP {
		return a.String()
	}
	return netip.AddrPortFrom(a, port).String()
}

// EventType says what happened to a flow.
type EventType uint8

// Event types. EventDump carries a flow that existed when a dump was taken
// (at start, or after an overrun); EventSyncDone ends such a dump, after
// which every flow the consumer knew but the dump did not list is gone.
const (
	EventNew EventType = iota + 1
	EventUpdate
	EventDestroy
	EventDump
	EventSyncDone
)

func (t EventType) String() string {
	switch t {
	case EventNew:
		return "new"
	case EventUpdate:
		return "update"
	case EventDestroy:
		return "destroy"
	case EventDump:
		return "dump"
	case EventSyncDone:
		return "sync-done"
	}
	return fmt.Sprintf("event(%d)", uint8(t))
}

// Event is one conntrack event as delivered by Watch. Time is when vpnpass
// received it (from the watch's clock), not a kernel timestamp.
type Event struct {
	_    [0]func() // not comparable: no generated equality function (binary size)
	Type EventType
	Flow Flow
	Time time.Time
}
