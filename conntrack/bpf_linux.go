package conntrack

import (
	"fmt"
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

// op is one instruction of the filter with an optional label and an
// optional symbolic jump target (for JumpIf's SkipTrue and Jump's Skip).
type op struct {
	label string
	in    bpf.Instruction
	to    string
}

// footprintFilter builds a classic BPF socket filter for the conntrack
// event socket that passes only VPN footprint flows: ESP, AH, GRE, and UDP
// or TCP to the VPN ports, judged by the original tuple. The kernel's
// netlink-attribute extensions walk the nested attributes, so ordinary flows
// never reach userspace: that keeps a storm of non-VPN flows cheap. An event
// whose attributes cannot be found is passed; userspace filters again.
func footprintFilter() ([]bpf.RawInstruction, error) {
	// find(A = offset of the attribute (or nest) to search, X = type):
	// A = offset of the attribute found, 0 if none.
	find := func(attr uint32, ext bpf.Extension, missing string) []op {
		return []op{
			{in: bpf.LoadConstant{Dst: bpf.RegX, Val: attr}},
			{in: bpf.LoadExtension{Num: ext}},
			{in: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0}, to: missing},
		}
	}
	p := []op{{in: bpf.LoadConstant{Dst: bpf.RegA, Val: ctAttrOffset}}}
	p = append(p, find(ctaTupleOrig, bpf.ExtNetlinkAttr, "accept")...)
	p = append(p, find(ctaTupleProto, bpf.ExtNetlinkAttrNested, "accept")...)
	p = append(p, op{in: bpf.StoreScratch{Src: bpf.RegA, N: 0}}) // the CTA_TUPLE_PROTO nest
	p = append(p, find(ctaProtoNum, bpf.ExtNetlinkAttrNested, "accept")...)
	p = append(p, op{in: bpf.TAX{}})
	p = append(p,
		op{in: bpf.LoadIndirect{Off: unix.NLA_HDRLEN, Size: 1}},
	)
	for _, l4 := range vpn.PortlessL4() { // ESP, AH, GRE
		p = append(p, op{in: bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(l4)}, to: "accept"})
	}
	p = append(p,
		op{in: bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.IPPROTO_UDP}, to: "udp"},
		op{in: bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.IPPROTO_TCP}, to: "tcp"},
		op{in: bpf.Jump{}, to: "drop"},
	)
	p = append(p, portBranch("udp", vpn.Ports(vpn.ProtoUDP))...)
	p = append(p, portBranch("tcp", vpn.Ports(vpn.ProtoTCP))...)
	p = append(p,
		op{label: "drop", in: bpf.RetConstant{Val: 0}},
		op{label: "accept", in: bpf.RetConstant{Val: 0xffffffff}},
	)
	return assemble(p)
}

// portBranch loads the destination port and accepts it if listed. Ports are
// big-endian in the attribute and BPF half-word loads read network order, so
// this holds on big-endian routers too.
func portBranch(label string, ports []uint16) []op {
	p := []op{{label: label, in: bpf.LoadScratch{Dst: bpf.RegA, N: 0}}}
	p = append(p,
		op{in: bpf.LoadConstant{Dst: bpf.RegX, Val: ctaProtoDstPort}},
		op{in: bpf.LoadExtension{Num: bpf.ExtNetlinkAttrNested}},
		op{in: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0}, to: "drop"},
		op{in: bpf.TAX{}},
		op{in: bpf.LoadIndirect{Off: unix.NLA_HDRLEN, Size: 2}},
	)
	for _, port := range ports {
		p = append(p, op{in: bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(port)}, to: "accept"})
	}
	return append(p, op{in: bpf.Jump{}, to: "drop"})
}

// assemble resolves labels into the forward-only relative skips of
// classic BPF.
func assemble(p []op) ([]bpf.RawInstruction, error) {
	at := map[string]int{}
	for i, o := range p {
		if o.label != "" {
			at[o.label] = i
		}
	}
	out := make([]bpf.Instruction, len(p))
	for i, o := range p {
		out[i] = o.in
		if o.to == "" {
			continue
		}
		t, ok := at[o.to]
		if !ok || t <= i || t-i-1 > 255 {
			return nil, fmt.Errorf("bpf: bad jump from %d to %q", i, o.to)
		}
		skip := uint32(t - i - 1)
		switch in := o.in.(type) {
		case bpf.JumpIf:
			in.SkipTrue = uint8(skip)
			out[i] = in
		case bpf.Jump:
			in.Skip = skip
			out[i] = in
		}
	}
	return bpf.Assemble(out)
}
