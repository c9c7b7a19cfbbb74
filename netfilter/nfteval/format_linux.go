package nfteval

import (
	"github.com/vpnpass/vpnpass/netfilter/nftwire"

	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"
)

// statement renders expressions that do something rather than match.
func (rd *renderer) statement(e expr.Any) {
	var s string
	switch x := e.(type) {
	case *expr.Verdict:
		s = nftwire.VerdictText(x)
	case *expr.Counter:
		s = "counter"
	case *expr.Log:
		s = "log"
		if len(x.Data) > 0 {
			s = "log prefix " + strconv.Quote(string(x.Data))
		}
	case *expr.Limit:
		s = limitString(x)
	case *expr.Quota:
		s = "quota" + overWord(x.Over) + " " + utoa(x.Bytes) + " bytes"
	case *expr.Connlimit:
		s = "ct count" + overWord(x.Flags&1 != 0) + " " + utoa(uint64(x.Count))
	case *expr.Reject:
		// NFT_REJECT_TCP_RST 1, NFT_REJECT_ICMPX_UNREACH 2
		s = nameOr(uint64(x.Type), rejectNames, "reject")
	case *expr.Masq:
		s = "masquerade"
	case *expr.NAT:
		s = "snat"
		if x.Type == expr.NATTypeDestNAT {
			s = "dnat"
		}
		if x.RegAddrMin != 0 {
			s += " to " + rd.get(x.RegAddrMin).name
		}
	case *expr.Redir:
		s = "redirect"
	case *expr.FlowOffload:
		s = "flow add @" + x.Name
	case *expr.Objref:
		s = objrefString(x)
	case *expr.Dynset:
		s = nameOr(uint64(x.Operation), dynsetOps, "update") + " @" + x.SetName
	case *expr.Numgen:
		rd.set(x.Register, &desc{field: field{"numgen" + nameOr(uint64(x.Type), numgenModes, "") +
			" mod " + utoa(uint64(x.Modulus)), kDec}})
		return
	case *expr.Exthdr:
		if x.SourceRegister != 0 {
			s = "exthdr set " + rd.get(x.SourceRegister).name
			break
		}
		rd.set(x.DestRegister, &desc{field: field{"exthdr", kHex}})
		return
	case *nftwire.Opaque:
		if x.Dreg != 0 {
			rd.set(x.Dreg, &desc{field: field{"[" + x.Name + "]", kHostInt}}) // rt and xfrm keys are host-order integers
			return
		}
		s = "[" + x.Name + "]"
	default:
		if reg := loadReg(e); reg != 0 {
			rd.set(reg, &desc{field: field{exprName(e), kHex}})
			return
		}
		s = exprName(e)
	}
	rd.emit(s)
}

// Small value-name tables: static data, searched by nameOr.
var (
	rejectNames = []named{{1, "reject with tcp reset"}, {2, "reject with icmpx"}}
	dynsetOps   = []named{{0, "add"}, {1, "update"}, {2, "delete"}}
	numgenModes = []named{{0, " inc"}, {1, " random"}}
	limitUnits  = []named{{uint32(expr.LimitTimeSecond), "second"}, {uint32(expr.LimitTimeMinute), "minute"},
		{uint32(expr.LimitTimeHour), "hour"}, {uint32(expr.LimitTimeDay), "day"}, {uint32(expr.LimitTimeWeek), "week"}}
	nfprotoNames = []named{{2, "ipv4"}, {10, "ipv6"}}
	etherNames   = []named{{0x0800, "ip"}, {0x86dd, "ip6"}, {0x0806, "arp"}}
	ctDirNames   = []named{{0, "original"}, {1, "reply"}}
	pkttypeNames = []named{{0, "host"}, {1, "broadcast"}, {2, "multicast"}, {3, "other"}}
	protoNames   = []named{{1, "icmp"}, {2, "igmp"}, {6, "tcp"}, {17, "udp"}, {47, "gre"}, {50, "esp"},
		{51, "ah"}, {58, "icmpv6"}, {132, "sctp"}, {136, "udplite"}}
	objTypeNames = []named{{1, "counter"}, {2, "quota"}, {3, "ct helper"}, {4, "limit"}, {5, "ct count"},
		{6, "tunnel"}, {7, "ct timeout"}, {8, "secmark"}, {9, "ct expectation"}, {10, "synproxy"}}
	tcpFlagNames = []string{"fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr"}
)

// named is one entry of a value-name table.
type named struct {
	v    uint32
	name string
}

// nameOr returns v's name in tbl, or def.
func nameOr(v uint64, tbl []named, def string) string {
	for _, n := range tbl {
		if uint64(n.v) == v {
			return n.name
		}
	}
	return def
}

func utoa(v uint64) string { return strconv.FormatUint(v, 10) }

// hexOf prints bytes as fmt's "0x%x" does, without fmt's boxing.
func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2, 2+2*len(b))
	out[0], out[1] = '0', 'x'
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// overWord is " over" for an inverted limit, quota or ct count.
func overWord(over bool) string {
	if over {
		return " over"
	}
	return ""
}

func limitString(l *expr.Limit) string {
	unit := nameOr(uint64(l.Unit), limitUnits, "")
	if unit == "" {
		unit = utoa(uint64(l.Unit)) + "s"
	}
	per := "/"
	if l.Type == expr.LimitTypePktBytes {
		per = " bytes/"
	}
	return "limit rate" + overWord(l.Over) + " " + utoa(l.Rate) + per + unit
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
func (rd *renderer) value(d *desc, b []byte) string {
	var tbl []named
	switch d.kind {
	case kIfname:
		return strconv.Quote(nftwire.IfnameString(b))
	case kIfindex:
		return rd.ifindexString(b)
	case kProto:
		tbl = protoNames
	case kNfproto:
		tbl = nfprotoNames
	case kEther:
		tbl = etherNames
	case kCtDir:
		tbl = ctDirNames
	case kPkttype:
		tbl = pkttypeNames
	case kPort, kDec:
		if len(b) > 8 {
			return hexOf(b) // wider than any field nft prints in decimal
		}
		return utoa(beUint(b))
	case kAddr:
		return addrString(d.name, b)
	case kCtState:
		if len(b) == 4 {
			return nftwire.CtStateText(uint32(hostUint(b)))
		}
	case kHostInt:
		if len(b) == 2 || len(b) == 4 || len(b) == 8 {
			return "0x" + strconv.FormatUint(hostUint(b), 16)
		}
	case kTCPFlags:
		if len(b) == 1 {
			return nftwire.BitNames(uint32(b[0]), tcpFlagNames)
		}
	}
	if tbl != nil {
		return lookupName(b, tbl)
	}
	return hexOf(b)
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

func lookupName(b []byte, names []named) string {
	v := beUint(b)
	if n := nameOr(v, names, ""); n != "" {
		return n
	}
	return utoa(v)
}

// hostUint reads up to 8 bytes in host order.
func hostUint(b []byte) uint64 {
	var v uint64
	for i := range b {
		j := i
		if !bigEndianHost {
			j = len(b) - 1 - i
		}
		v = v<<8 | uint64(b[j])
	}
	return v
}

func (rd *renderer) ifindexString(b []byte) string {
	if len(b) != 4 {
		return hexOf(b)
	}
	i := uint32(hostUint(b))
	if rd.t.rs != nil {
		for name, idx := range rd.t.rs.Ifindex {
			if idx == i {
				return strconv.Quote(name)
			}
		}
	}
	return utoa(uint64(i))
}

// addrString prints an address; a shorter one is a prefix match on whole
// bytes, as nft encodes `ip daddr 10.1.0.0/16`.
func addrString(name string, b []byte) string {
	full := 4
	if strings.HasPrefix(name, "ip6") || len(b) > 4 {
		full = 16
	}
	if len(b) > full {
		return hexOf(b)
	}
	buf := make([]byte, full)
	copy(buf, b)
	a, _ := netip.AddrFromSlice(buf)
	if len(b) < full {
		return a.String() + "/" + utoa(uint64(len(b)*8))
	}
	return a.String()
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
