package nfteval

import (
	"github.com/vpnpass/vpnpass/netfilter/nftwire"

	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
)

// statement renders expressions that do something rather than match.
func (rd *renderer) statement(e expr.Any) {
	switch x := e.(type) {
	case *expr.Verdict:
		rd.emit(nftwire.VerdictText(x))
	case *expr.Counter:
		rd.emit("counter")
	case *expr.Log:
		if len(x.Data) > 0 {
			rd.emit("log prefix " + strconv.Quote(string(x.Data)))
		} else {
			rd.emit("log")
		}
	case *expr.Limit:
		rd.emit(limitString(x))
	case *expr.Quota:
		rd.emit(join("quota", overWord(x.Over), fmt.Sprintf("%d bytes", x.Bytes)))
	case *expr.Connlimit:
		rd.emit(join("ct count", overWord(x.Flags&1 != 0), strconv.Itoa(int(x.Count))))
	case *expr.Reject:
		switch x.Type {
		case 1: // NFT_REJECT_TCP_RST
			rd.emit("reject with tcp reset")
		case 2: // NFT_REJECT_ICMPX_UNREACH
			rd.emit("reject with icmpx")
		default:
			rd.emit("reject")
		}
	case *expr.Masq:
		rd.emit("masquerade")
	case *expr.NAT:
		rd.emit(natString(rd, x))
	case *expr.Redir:
		rd.emit("redirect")
	case *expr.FlowOffload:
		rd.emit("flow add @" + x.Name)
	case *expr.Objref:
		rd.emit(objrefString(x))
	case *expr.Dynset:
		ops := []string{"add", "update", "delete"}
		op := "update"
		if int(x.Operation) < len(ops) {
			op = ops[x.Operation]
		}
		rd.emit(op + " @" + x.SetName)
	case *expr.Numgen:
		mode := map[uint32]string{0: "inc", 1: "random"}[x.Type]
		rd.set(x.Register, desc{field: field{join("numgen", mode, "mod", strconv.Itoa(int(x.Modulus))), kDec}})
	case *expr.Exthdr:
		if x.SourceRegister != 0 {
			rd.emit("exthdr set " + rd.get(x.SourceRegister).name)
			return
		}
		rd.set(x.DestRegister, desc{field: field{"exthdr", kHex}})
	case *nftwire.Opaque:
		if x.Dreg != 0 {
			rd.set(x.Dreg, desc{field: field{"[" + x.Name + "]", kHostInt}}) // rt and xfrm keys are host-order integers
			return
		}
		rd.emit("[" + x.Name + "]")
	default:
		if reg := loadReg(e); reg != 0 {
			rd.set(reg, desc{field: field{exprName(e), kHex}})
			return
		}
		rd.emit(exprName(e))
	}
}

func overWord(over bool) string {
	if over {
		return "over"
	}
	return ""
}

func limitString(l *expr.Limit) string {
	units := map[expr.LimitTime]string{expr.LimitTimeSecond: "second", expr.LimitTimeMinute: "minute",
		expr.LimitTimeHour: "hour", expr.LimitTimeDay: "day", expr.LimitTimeWeek: "week"}
	unit := units[l.Unit]
	if unit == "" {
		unit = fmt.Sprintf("%ds", l.Unit)
	}
	rate := fmt.Sprintf("%d/%s", l.Rate, unit)
	if l.Type == expr.LimitTypePktBytes {
		rate = fmt.Sprintf("%d bytes/%s", l.Rate, unit)
	}
	return join("limit rate", overWord(l.Over), rate)
}

func natString(rd *renderer, n *expr.NAT) string {
	s := "snat"
	if n.Type == expr.NATTypeDestNAT {
		s = "dnat"
	}
	if n.RegAddrMin != 0 {
		s += " to " + rd.get(n.RegAddrMin).name
	}
	return s
}

func objrefString(x *expr.Objref) string {
	switch x.Type {
	case 3:
		return "ct helper set " + strconv.Quote(x.Name)
	case 7:
		return "ct timeout set " + strconv.Quote(x.Name)
	case 9:
		return "ct expectation set " + strconv.Quote(x.Name)
	case 8:
		return "meta secmark set " + strconv.Quote(x.Name)
	}
	return objTypeName(x.Type) + " name " + strconv.Quote(x.Name)
}

// value prints a field's value as nft would.
func (rd *renderer) value(d desc, b []byte) string {
	switch d.kind {
	case kIfname:
		return strconv.Quote(nftwire.IfnameString(b))
	case kIfindex:
		return rd.ifindexString(b)
	case kProto:
		return protoName(b)
	case kNfproto:
		return lookupName(b, map[uint64]string{2: "ipv4", 10: "ipv6"})
	case kEther:
		return lookupName(b, map[uint64]string{0x0800: "ip", 0x86dd: "ip6", 0x0806: "arp"})
	case kPort, kDec:
		if len(b) > 8 {
			return fmt.Sprintf("0x%x", b) // wider than any field nft prints in decimal
		}
		return strconv.FormatUint(beUint(b), 10)
	case kAddr:
		return addrString(d.name, b)
	case kCtState:
		return ctStateString(b)
	case kCtDir:
		return lookupName(b, map[uint64]string{0: "original", 1: "reply"})
	case kHostInt:
		return hostIntString(b)
	case kTCPFlags:
		return tcpFlagsString(b)
	case kPkttype:
		return lookupName(b, map[uint64]string{0: "host", 1: "broadcast", 2: "multicast", 3: "other"})
	}
	return fmt.Sprintf("0x%x", b)
}

// beUint reads up to 8 big-endian bytes (the last 8 of a longer value, as
// big.Int.Uint64 did) without linking math/big (~90 KB on mips).
func beUint(b []byte) uint64 {
	if len(b) > 8 {
		b = b[len(b)-8:]
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

func lookupName(b []byte, names map[uint64]string) string {
	v := beUint(b)
	if n, ok := names[v]; ok {
		return n
	}
	return strconv.FormatUint(v, 10)
}

func protoName(b []byte) string {
	return lookupName(b, map[uint64]string{1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 47: "gre", 50: "esp",
		51: "ah", 58: "icmpv6", 132: "sctp", 136: "udplite"})
}

func (rd *renderer) ifindexString(b []byte) string {
	if len(b) != 4 {
		return fmt.Sprintf("0x%x", b)
	}
	i := binaryutil.NativeEndian.Uint32(b)
	if rd.t.rs != nil {
		for name, idx := range rd.t.rs.Ifindex {
			if idx == i {
				return strconv.Quote(name)
			}
		}
	}
	return strconv.FormatUint(uint64(i), 10)
}

// addrString prints an address; a shorter one is a prefix match on whole
// bytes, as nft encodes `ip daddr 10.1.0.0/16`.
func addrString(name string, b []byte) string {
	full := 4
	if strings.HasPrefix(name, "ip6") || len(b) > 4 {
		full = 16
	}
	if len(b) > full {
		return fmt.Sprintf("0x%x", b)
	}
	buf := make([]byte, full)
	copy(buf, b)
	a, _ := netip.AddrFromSlice(buf)
	if len(b) < full {
		return fmt.Sprintf("%s/%d", a, len(b)*8)
	}
	return a.String()
}

func ctStateString(b []byte) string {
	if len(b) != 4 {
		return fmt.Sprintf("0x%x", b)
	}
	return nftwire.CtStateText(binaryutil.NativeEndian.Uint32(b))
}

func tcpFlagsString(b []byte) string {
	if len(b) != 1 {
		return fmt.Sprintf("0x%x", b)
	}
	return nftwire.BitNames(uint32(b[0]), []string{"fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr"})
}

func hostIntString(b []byte) string {
	switch len(b) {
	case 2:
		return fmt.Sprintf("0x%x", binaryutil.NativeEndian.Uint16(b))
	case 4:
		return fmt.Sprintf("0x%x", binaryutil.NativeEndian.Uint32(b))
	case 8:
		return fmt.Sprintf("0x%x", binaryutil.NativeEndian.Uint64(b))
	}
	return fmt.Sprintf("0x%x", b)
}

// prefixLen returns n when mask is n one bits followed by zeros.
func prefixLen(mask []byte) (int, bool) {
	n, ended := 0, false
	for _, m := range mask {
		for bit := 7; bit >= 0; bit-- {
			one := m&(1<<bit) != 0
			switch {
			case one && ended:
				return 0, false
			case one:
				n++
			default:
				ended = true
			}
		}
	}
	return n, true
}
