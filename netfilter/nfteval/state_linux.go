package nfteval

import (
	"net"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"

	"github.com/vpnpass/vpnpass/netfilter"
)

// protoAH is IPPROTO_AH.
const protoAH = 51

// Meta keys the library does not name (enum nft_meta_keys).
const (
	metaKeyTimeNS   expr.MetaKey = 30
	metaKeyTimeDay  expr.MetaKey = 31
	metaKeyTimeHour expr.MetaKey = 32
)

// conntrack status bits (enum ip_conntrack_status).
const (
	ipsExpected = 1 << 0
	ipsDstNAT   = 1 << 5
)

func optU32(v *uint32) kbytes {
	if v == nil {
		return unknownBytes(4)
	}
	return knownBytes(binaryutil.NativeEndian.PutUint32(*v))
}

// linkHeader is the Ethernet header with only the source MAC known.
func linkHeader(mac net.HardwareAddr) kbytes {
	h := unknownBytes(14)
	setKnown(h, 6, mac, len(mac) == 6)
	return h
}

// newCtStatus is what `ct status` holds while a new connection's first
// packet is on its way: nothing confirmed, seen, assured or source-NATed
// yet (that is postrouting's), so the low byte is zero but for DST_NAT,
// known when the caller says whether prerouting DNATed it, and EXPECTED
// for a related connection a helper announced (the pptp helper's GRE of a
// forwarded call: inbound_judge). The other bytes hold DST_NAT_DONE and
// HELPER, which depend on which NAT hooks and helpers exist: unknown.
func newCtStatus(p netfilter.Packet) kbytes {
	st := unknownBytes(4)
	state := strings.TrimSpace(p.CtState)
	if (state != "new" && state != "related") || p.DNAT == nil || p.CtDirection == "reply" {
		return st
	}
	var low byte
	if state == "related" {
		low = ipsExpected
	}
	if *p.DNAT {
		low |= ipsDstNAT
	}
	setKnown(st, lowByteIndex(), []byte{low}, true)
	return st
}

// lowByteIndex is where the least significant byte of a host-order u32 sits.
func lowByteIndex() int {
	if binaryutil.NativeEndian.PutUint32(1)[0] == 1 {
		return 0
	}
	return 3
}

// timeMeta is what `meta time`, `meta day` or `meta hour` loads at now:
// nanoseconds since the epoch, or the weekday (0 is Sunday) or the seconds
// since midnight in the kernel's timezone (sys_tz, which settimeofday sets
// and gettimeofday reports).
func timeMeta(now time.Time, key expr.MetaKey) kbytes {
	if now.IsZero() {
		now = time.Now()
	}
	secs := now.Unix() - int64(kernelTZMinutesWest())*60
	switch key {
	case metaKeyTimeDay:
		return knownBytes([]byte{byte(((secs/86400)+4)%7+7) % 7})
	case metaKeyTimeHour:
		return knownBytes(binaryutil.NativeEndian.PutUint32(uint32(((secs % 86400) + 86400) % 86400)))
	}
	return knownBytes(binaryutil.NativeEndian.PutUint64(uint64(now.UnixNano())))
}

// kernelTZMinutesWest reads sys_tz (0 when unset or unreadable: the
// kernel then counts in UTC too).
func kernelTZMinutesWest() int32 {
	var tv syscall.Timeval
	var tz struct{ minuteswest, dsttime int32 }
	_, _, errno := syscall.RawSyscall(syscall.SYS_GETTIMEOFDAY, uintptr(unsafe.Pointer(&tv)), uintptr(unsafe.Pointer(&tz)), 0)
	if errno != 0 {
		return 0
	}
	return tz.minuteswest
}
