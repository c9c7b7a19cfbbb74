package nfteval

import (
	"net/netip"
	"strings"
	"time"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

// pkt is what the expressions can see of a representative packet on one
// hook: header images with known and unknown bytes, interfaces, conntrack.
type pkt struct {
	nfproto byte
	l4      kbytes // 1 byte
	nh, th  kbytes // network and transport header images
	iif     iface
	oif     iface
	ctState kbytes // 4 bytes, host order
	ctDir   kbytes // 1 byte: IP_CT_DIR_ORIGINAL 0, IP_CT_DIR_REPLY 1
	tracked bool   // a conntrack entry exists (new, established, related)
	ifindex map[string]uint32
	// ifs holds what meta iifname, oifname, iif and oif load, computed
	// once; mark and ctMark change as rules set them.
	ifs          [4]kbytes
	mark, ctMark kbytes // 4 bytes, host order
	ctStatus     kbytes // 4 bytes, host order
	ll           kbytes // link-layer header: the source MAC is all we know
	dnat         *bool  // as the packet arrived
	natted       bool   // a NAT statement of this chain rewrote it
	markTouched  bool   // a rule set the mark or ct mark
	ipv6AHTunnel bool   // IPv6 AH: nft sees the protocol AH carries
	now          time.Time
}

// iface is one side's device: absent on that hook (known empty), named, or
// not given (unknown).
type iface struct {
	_       noCompare
	name    string
	absent  bool
	unknown bool
}

// ctTracked are the ct state bits of a packet with a conntrack entry:
// established, related, new.
const ctTracked = 1<<1 | 1<<2 | 1<<3

// newPkt builds the packet model of p as it appears on hook. It is built
// on the stack and copied to the heap once: field by field stores into a
// heap object each take a write barrier (a lot of code on mips).
func newPkt(p netfilter.Packet, hook string, ifindex map[string]uint32) *pkt {
	k := pkt{ifindex: ifindex, l4: unknownBytes(1), ctState: unknownBytes(4), ctDir: unknownBytes(1)}
	k.nfproto = unix.NFPROTO_IPV4
	if p.Family == vpn.IPv6 {
		k.nfproto = unix.NFPROTO_IPV6
	}
	if p.L4 != 0 {
		k.l4 = knownBytes([]byte{p.L4})
	}
	// IPv6 AH: nftables stops at AH (IP6_FH_F_AUTH), so `meta l4proto`
	// is ah; conntrack and reject skip it (ipv6_skip_exthdr) and see what
	// AH carries: in the tunnel mode VPNs use, the inner IPv6 packet.
	k.ipv6AHTunnel = p.Family == vpn.IPv6 && p.L4 == protoAH
	k.mark, k.ctMark = optU32(p.Mark), optU32(p.CtMark)
	k.ll = linkHeader(p.SrcMAC)
	k.dnat = p.DNAT
	k.nh = networkHeader(p)
	k.th = transportHeader(p)
	k.iif, k.oif = ifaces(p, hook)
	k.now = p.Now
	k.ifs = [4]kbytes{k.iif.nameBytes(), k.oif.nameBytes(), k.iif.indexBytes(ifindex), k.oif.indexBytes(ifindex)}
	if bits := nftwire.CtStateBit(strings.TrimSpace(p.CtState)); bits != 0 {
		k.ctState = knownBytes(binaryutil.NativeEndian.PutUint32(bits))
		k.tracked = bits&ctTracked != 0
	}
	k.ctStatus = newCtStatus(p)
	switch {
	case p.CtDirection == "reply":
		k.ctDir = knownBytes([]byte{1})
	case p.CtDirection == "original", p.CtDirection == "" && strings.TrimSpace(p.CtState) == "new":
		k.ctDir = knownBytes([]byte{0})
	}
	out := new(pkt)
	*out = k
	return out
}

// ifaces says which devices exist on a hook: no output device before
// routing, no input device for locally generated packets.
func ifaces(p netfilter.Packet, hook string) (in, out iface) {
	in = iface{name: p.InIf, unknown: p.InIf == ""}
	out = iface{name: p.OutIf, unknown: p.OutIf == ""}
	switch hook {
	case "prerouting", "input", "ingress":
		out = iface{absent: true}
	case "output", "postrouting":
		in = iface{absent: true}
	}
	return in, out
}

// addr returns a's bytes for the family, or false when it is not given.
func addr(a netip.Addr, fam vpn.Family) ([]byte, bool) {
	if !a.IsValid() || a.IsUnspecified() {
		return nil, false
	}
	if fam == vpn.IPv4 {
		a = a.Unmap()
		if !a.Is4() {
			return nil, false
		}
		b := a.As4()
		return b[:], true
	}
	b := a.As16()
	return b[:], true
}

// networkHeader is the IPv4 (no options) or IPv6 (no extension headers)
// header with what we know: version, protocol, addresses.
func networkHeader(p netfilter.Packet) kbytes {
	n, proto, src, dst := 20, 9, 12, 16
	v6 := p.Family == vpn.IPv6
	if v6 {
		n, proto, src, dst = 40, 6, 8, 24
	}
	h := unknownBytes(n)
	setKnown(h, 0, []byte{0x45}, !v6)
	setKnown(h, proto, []byte{p.L4}, p.L4 != 0)
	b, ok := addr(p.Src, p.Family)
	setKnown(h, src, b, ok)
	b, ok = addr(p.Dst, p.Family)
	setKnown(h, dst, b, ok)
	return h
}

// transportHeader holds the ports of TCP and UDP, and the flags of a TCP
// connection's first packet (a SYN): the packet that is "new".
func transportHeader(p netfilter.Packet) kbytes {
	switch p.L4 {
	case vpn.ProtoTCP, vpn.ProtoUDP:
	default:
		return unknownBytes(8)
	}
	n := 8
	if p.L4 == vpn.ProtoTCP {
		n = 20
	}
	h := unknownBytes(n)
	setKnown(h, 0, binaryutil.BigEndian.PutUint16(p.SrcPort), p.SrcPort != 0)
	setKnown(h, 2, binaryutil.BigEndian.PutUint16(p.DstPort), p.DstPort != 0)
	if p.L4 == vpn.ProtoTCP && strings.TrimSpace(p.CtState) == "new" {
		setKnown(h, 13, []byte{0x02}, true) // SYN
	}
	return h
}

func setKnown(h kbytes, off int, b []byte, ok bool) {
	if !ok {
		return
	}
	for i, x := range b {
		h.v[off+i], h.known[off+i] = x, true
	}
}

// nameBytes is a device name as the kernel loads it: IFNAMSIZ bytes,
// NUL padded (all zero when there is no device).
func (f iface) nameBytes() kbytes {
	if f.unknown {
		return unknownBytes(unix.IFNAMSIZ)
	}
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, f.name)
	return knownBytes(b)
}

// indexBytes is the device index (host order), 0 when there is none.
func (f iface) indexBytes(ifindex map[string]uint32) kbytes {
	if f.absent {
		return knownBytes(binaryutil.NativeEndian.PutUint32(0))
	}
	i, ok := ifindex[f.name]
	if f.unknown || !ok {
		return unknownBytes(4)
	}
	return knownBytes(binaryutil.NativeEndian.PutUint32(i))
}

// meta returns what `meta <key>` loads; ok is false for keys we do not
// model (priority, skuid, ...), whose length we may not know either.
func (k *pkt) meta(key expr.MetaKey) (kbytes, bool) {
	var b []byte
	switch key {
	case expr.MetaKeyMARK:
		return k.mark, true
	case metaKeyTimeNS, metaKeyTimeDay, metaKeyTimeHour:
		return timeMeta(k.now, key), true // rare: computed when a rule asks
	case expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME, expr.MetaKeyIIF, expr.MetaKeyOIF:
		return k.ifs[ifSlot(key)], true
	case expr.MetaKeyL4PROTO:
		return k.l4, true
	case expr.MetaKeyNFPROTO:
		b = []byte{k.nfproto}
	case expr.MetaKeyPROTOCOL:
		b = []byte{0x08, 0x00} // ETH_P_IP
		if k.nfproto == unix.NFPROTO_IPV6 {
			b = []byte{0x86, 0xdd} // ETH_P_IPV6
		}
	case expr.MetaKeyPKTTYPE:
		// The representative packets are unicast to a host: PACKET_HOST.
		b = []byte{unix.PACKET_HOST}
	case expr.MetaKeyIIFTYPE:
		// A known source MAC means the packet came in on an Ethernet device.
		if !k.ll.known[6] {
			return &kval{}, false
		}
		b = binaryutil.NativeEndian.PutUint16(unix.ARPHRD_ETHER)
	default:
		return &kval{}, false
	}
	return knownBytes(b), true
}

// ifSlot is where pkt.ifs holds a device key's value.
func ifSlot(key expr.MetaKey) int {
	switch key {
	case expr.MetaKeyIIFNAME:
		return 0
	case expr.MetaKeyOIFNAME:
		return 1
	case expr.MetaKeyIIF:
		return 2
	}
	return 3
}

// ct returns what `ct <key>` loads, for the keys we model.
func (k *pkt) ct(e *expr.Ct) (kbytes, bool) {
	switch e.Key {
	case expr.CtKeySTATE:
		return k.ctState, true
	case expr.CtKeyDIRECTION:
		if k.tracked {
			return k.ctDir, true
		}
	case expr.CtKeyL3PROTOCOL:
		if k.tracked {
			return knownBytes([]byte{k.nfproto}), true
		}
	case expr.CtKeyPROTOCOL:
		if k.tracked && k.ipv6AHTunnel {
			return knownBytes([]byte{unix.IPPROTO_IPV6}), true
		}
		if k.tracked {
			return k.l4, true
		}
	case expr.CtKeyMARK:
		if k.tracked {
			return k.ctMark, true
		}
	case expr.CtKeySTATUS:
		if k.tracked {
			return k.ctStatus, true
		}
	}
	return &kval{}, false
}

// payload returns what a payload load reads, ok false for bases we do not
// model (link layer, inner headers).
// Offset and length come from the wire as u32: the kernel never loads more
// than the register file holds, and on 32-bit routers a large u32 would be a
// negative int, so both are bounded before use.
func (k *pkt) payload(e *expr.Payload) (kbytes, bool) {
	n := int(min(e.Len, regBytes))
	if e.Offset > maxPayloadOffset {
		return unknownBytes(n), true
	}
	switch e.Base {
	case expr.PayloadBaseLLHeader:
		return k.ll.slice(int(e.Offset), n), true
	case expr.PayloadBaseNetworkHeader:
		return k.nh.slice(int(e.Offset), n), true
	case expr.PayloadBaseTransportHeader:
		return k.th.slice(int(e.Offset), n), true
	}
	return unknownBytes(n), true
}

// maxPayloadOffset is past any header we model (an IP packet is < 64 KiB).
const maxPayloadOffset = 1 << 16

// forget makes a header range unknown after a payload write.
func (k *pkt) forget(e *expr.Payload) {
	h := k.th
	if e.Base == expr.PayloadBaseNetworkHeader {
		h = k.nh
	} else if e.Base != expr.PayloadBaseTransportHeader {
		return
	}
	start, end := int(min(e.Offset, maxPayloadOffset)), int(min(uint64(e.Offset)+uint64(e.Len), maxPayloadOffset))
	for i := start; i < end && i < len(h.known); i++ {
		h.known[i] = false
	}
}
