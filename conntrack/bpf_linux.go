package conntrack

import (
	"errors"
	"strconv"

	"github.com/vpnpass/vpnpass/vpn"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Netlink attribute types of ctnetlink (include/uapi/linux/netfilter/
// nfnetlink_conntrack.h), for the kernel-side filter.
const (
	ctaTupleOrig    = 1
	ctaTupleProto   = 2
	ctaProtoNum     = 1
	ctaProtoDstPort = 3
	// nlmsghdr (16 bytes) + nfgenmsg (4 bytes): where attributes start.
	ctAttrOffset = unix.NLMSG_HDRLEN + 4
)

// Classic BPF ancillary loads (include/uapi/linux/filter.h): a word load at
// SKF_AD_OFF+n runs the kernel's extension n. x/sys/unix lacks these.
const (
	skfAdOff        = 0xfffff000 // SKF_AD_OFF (-0x1000)
	skfAdNlattr     = 12         // SKF_AD_NLATTR: A = offset of attribute X from A
	skfAdNlattrNest = 16         // SKF_AD_NLATTR_NEST: the same inside the nest at A
)

// The instructions the filter uses, as kernel opcodes (linux/bpf_common.h).
// The filter is built here rather than with x/net/bpf's assembler, whose
// instruction types and Assemble cost ~12 KB of a mips binary for these
// eleven opcodes; bpf_linux_test.go checks each against x/net/bpf.
const (
	opLdImm  = unix.BPF_LD | unix.BPF_IMM               // A = k
	opLdxImm = unix.BPF_LDX | unix.BPF_IMM              // X = k
	opLdAbsW = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS  // A = word at k (extensions)
	opLdIndB = unix.BPF_LD | unix.BPF_B | unix.BPF_IND  // A = byte at X+k
	opLdIndH = unix.BPF_LD | unix.BPF_H | unix.BPF_IND  // A = half-word at X+k
	opLdMem  = unix.BPF_LD | unix.BPF_MEM               // A = M[k]
	opSt     = unix.BPF_ST                              // M[k] = A
	opTax    = unix.BPF_MISC | unix.BPF_TAX             // X = A
	opJeq    = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K // A == k: skip jt
	opJa     = unix.BPF_JMP | unix.BPF_JA               // skip k
	opRet    = unix.BPF_RET | unix.BPF_K                // return k
)

// op is one instruction of the filter with an optional label and an
// optional symbolic jump target (for opJeq's jt and opJa's k).
type op struct {
	_     [0]func() // not comparable: no generated equality function (binary size)
	label string
	code  uint16
	k     uint32
	to    string
}

// filterHead walks the original tuple to its protocol number: find
// (A = offset of the attribute (or nest) to search, X = type, then an
// extension load) leaves A = offset of the attribute found, 0 if none.
// The fixed parts of the filter are tables the linker lays out, not code.
var filterHead = [...]op{
	{code: opLdImm, k: ctAttrOffset},
	{code: opLdxImm, k: ctaTupleOrig}, {code: opLdAbsW, k: skfAdOff + skfAdNlattr}, {code: opJeq, k: 0, to: "accept"},
	{code: opLdxImm, k: ctaTupleProto}, {code: opLdAbsW, k: skfAdOff + skfAdNlattrNest}, {code: opJeq, k: 0, to: "accept"},
	{code: opSt, k: 0}, // the CTA_TUPLE_PROTO nest
	{code: opLdxImm, k: ctaProtoNum}, {code: opLdAbsW, k: skfAdOff + skfAdNlattrNest}, {code: opJeq, k: 0, to: "accept"},
	{code: opTax}, {code: opLdIndB, k: unix.NLA_HDRLEN},
}

// filterPorted sends UDP and TCP to their port branches, the rest to drop.
var filterPorted = [...]op{
	{code: opJeq, k: unix.IPPROTO_UDP, to: "udp"},
	{code: opJeq, k: unix.IPPROTO_TCP, to: "tcp"},
	{code: opJa, to: "drop"},
}

// portHead loads the destination port of the nest stored in M[0]; the
// branch's label goes on its first instruction.
var portHead = [...]op{
	{code: opLdMem, k: 0},
	{code: opLdxImm, k: ctaProtoDstPort},
	{code: opLdAbsW, k: skfAdOff + skfAdNlattrNest},
	{code: opJeq, k: 0, to: "drop"},
	{code: opTax},
	{code: opLdIndH, k: unix.NLA_HDRLEN},
}

var filterTail = [...]op{
	{label: "drop", code: opRet, k: 0},
	{label: "accept", code: opRet, k: 0xffffffff},
}

// footprintFilter builds a classic BPF socket filter for the conntrack
// event socket that passes only VPN footprint flows: ESP, AH, GRE, and UDP
// or TCP to the VPN ports, judged by the original tuple. The kernel's
// netlink-attribute extensions walk the nested attributes, so ordinary flows
// never reach userspace: that keeps a storm of non-VPN flows cheap. An event
// whose attributes cannot be found is passed; userspace filters again.
func footprintFilter() ([]bpf.RawInstruction, error) {
	p := append([]op(nil), filterHead[:]...)
	for _, l4 := range vpn.PortlessL4() { // ESP, AH, GRE
		p = jeqAccept(p, uint32(l4))
	}
	p = append(p, filterPorted[:]...)
	p = portBranch(p, "udp", vpn.Ports(vpn.ProtoUDP))
	p = portBranch(p, "tcp", vpn.Ports(vpn.ProtoTCP))
	return assemble(append(p, filterTail[:]...))
}

// jeqAccept appends a jump to accept when A == k.
func jeqAccept(p []op, k uint32) []op {
	return append(p, op{code: opJeq, k: k, to: "accept"})
}

// portBranch loads the destination port and accepts it if listed. Ports are
// big-endian in the attribute and BPF half-word loads read network order, so
// this holds on big-endian routers too.
func portBranch(p []op, label string, ports []uint16) []op {
	n := len(p)
	p = append(p, portHead[:]...)
	p[n].label = label
	for _, port := range ports {
		p = jeqAccept(p, uint32(port))
	}
	return append(p, op{code: opJa, to: "drop"})
}

// assemble resolves labels into the forward-only relative skips of
// classic BPF (a conditional jump's false branch falls through).
func assemble(p []op) ([]bpf.RawInstruction, error) {
	out := make([]bpf.RawInstruction, len(p))
	for i, o := range p {
		out[i] = bpf.RawInstruction{Op: o.code, K: o.k}
		if o.to == "" {
			continue
		}
		t := i + 1
		for t < len(p) && p[t].label != o.to {
			t++
		}
		skip := t - i - 1
		if t == len(p) || o.code == opJeq && skip > 255 {
			return nil, errBadJump(i, o.to)
		}
		if o.code == opJeq {
			out[i].Jt = uint8(skip)
		} else {
			out[i].K = uint32(skip)
		}
	}
	return out, nil
}

func errBadJump(i int, to string) error {
	return errors.New("bpf: bad jump from " + strconv.Itoa(i) + " to " + strconv.Quote(to))
}
