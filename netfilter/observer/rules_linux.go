package observer

import (
	"time"

	"github.com/google/nftables/expr"
	"github.com/vpnpass/vpnpass/vpn"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

// Names inside the observer table.
const (
	obsChainForward = "forward"
	obsChainOutput  = "output"
	obsChainOut     = "count_out"
	obsChainIn      = "count_in"
	obsSetLAN       = "lan"
	// obsPriority runs the observer ahead of the filter (0) on forward and
	// output: a packet the filter drops still passes here first, before
	// conntrack would confirm its entry.
	obsPriority = -10
	// Entries live Timeout after their last packet; a set holds at most
	// SetSize (host, server, element) entries.
	Timeout = 10 * 60 // seconds
	SetSize = 4096
)

// Registers: NFT_REG_1 (16 bytes) holds the first key field; 32-bit
// registers follow. IPv4 keys: host reg32 0, peer reg32 1, proto reg32 2,
// port reg32 3. IPv6 keys: host NFT_REG_1, peer NFT_REG_2, proto and port
// in reg32 8 and 9. Every field is padded to 4 bytes, as in a concatenation.
const (
	regKey   = unix.NFT_REG_1
	reg32_01 = unix.NFT_REG32_01
	reg32_02 = unix.NFT_REG32_02
	reg32_03 = unix.NFT_REG32_03
	reg32_08 = unix.NFT_REG32_08
	reg32_09 = unix.NFT_REG32_09
)

// family describes one address family's part of the observer.
type obsFamily struct {
	nfproto          byte
	addrLen          uint32
	srcOff, dstOff   uint32
	peerReg          uint32
	protoReg         uint32
	portReg          uint32
	sets             [3]string // by obsDir.set: out, in, wan (inbound)
	keyLen, protoOff int       // for parsing keys read back
	keyType          uint32    // nft's type of the key host . peer . l4proto . port
	fields           []uint32  // the key's field lengths
}

// Key types of the counting sets: concatenations of nft datatypes,
// 6 bits each (nftwire.Concat, as constants: the family table is static).
const (
	keyTypeV4 = nftwire.TypeIPAddr<<18 | nftwire.TypeIPAddr<<12 | nftwire.TypeInetProto<<6 | nftwire.TypeInetService
	keyTypeV6 = nftwire.TypeIP6Addr<<18 | nftwire.TypeIP6Addr<<12 | nftwire.TypeInetProto<<6 | nftwire.TypeInetService
)

// countSet is the counting set of direction d: keys host . peer .
// l4proto . port, each entry with a counter, expiring Timeout after its
// last update, at most SetSize of them.
func (f *obsFamily) countSet(d obsDir) *nftwire.Set {
	return &nftwire.Set{Name: f.sets[d.set], KeyType: f.keyType, KeyLen: uint32(f.keyLen), Fields: f.fields,
		Timeout: Timeout * time.Second, Dynamic: true, Counter: true, Size: SetSize}
}

// portSet is the anonymous constant set of the (protocol . port) pairs
// counted by port (portElements).
var portSet = nftwire.Set{KeyType: nftwire.TypeInetProto<<6 | nftwire.TypeInetService, KeyLen: 8, Fields: []uint32{1, 2}}

var obsFamilies = []obsFamily{
	{nfproto: unix.NFPROTO_IPV4, addrLen: 4, srcOff: 12, dstOff: 16, peerReg: reg32_01, protoReg: reg32_02, portReg: reg32_03,
		sets: [3]string{"out4", "in4", "wan4"}, keyLen: 16, protoOff: 8, keyType: keyTypeV4, fields: []uint32{4, 4, 1, 2}},
	{nfproto: unix.NFPROTO_IPV6, addrLen: 16, srcOff: 8, dstOff: 24, peerReg: unix.NFT_REG_2, protoReg: reg32_08, portReg: reg32_09,
		sets: [3]string{"out6", "in6", "wan6"}, keyLen: 40, protoOff: 32, keyType: keyTypeV6, fields: []uint32{16, 16, 1, 2}},
}

// dir is one direction's view: which address is the host, which port
// field carries the well-known port, which set counts it.
type obsDir struct {
	chain    string
	hostOff  uint32
	peerOff  uint32
	portOff  uint32       // transport header offset of the well-known port
	set      int          // index of the family's set name (obsFamily.sets)
	dispatch expr.MetaKey // iifname (out) or oifname (in) matched against @lan
}

var obsDirs = []obsDir{
	{chain: obsChainOut, portOff: 2, set: 0, dispatch: expr.MetaKeyIIFNAME},
	{chain: obsChainIn, portOff: 0, set: 1, dispatch: expr.MetaKeyOIFNAME},
	{chain: obsChainWAN, portOff: 2, set: 2}, // inbound_linux.go
}

func (d obsDir) offsets(f obsFamily) (host, peer uint32) {
	if d.chain == obsChainOut {
		return f.srcOff, f.dstOff
	}
	return f.dstOff, f.srcOff
}

func be16(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }

// pad4 pads a key field to a register, as concatenations store them.
func pad4(b []byte) []byte { return append(b, make([]byte, (4-len(b)%4)%4)...) }

// countRules returns the rules of one direction and family:
//
//	meta l4proto . th dport { udp . 500, udp . 1701, tcp . 1723 } update @set { host . peer . l4proto . port }
//	udp dport 4500 @th,64,32 0      update @set { host . peer . udp . 4500 }  (IKE: non-ESP marker)
//	udp dport 4500 @th,64,32 != 0   update @set { host . peer . esp . 4500 }  (ESP in UDP)
//	meta l4proto { esp, ah, gre }   update @set { host . peer . l4proto . 0 }
//
// A NAT keepalive (one byte of payload) is too short for the 4-byte load
// and matches neither 4500 rule.
func countRules(f obsFamily, d obsDir, portSet, protoSet, set setRef) [][]expr.Any {
	k := countKey{f: &f, set: set}
	k.hostOff, k.peerOff = d.offsets(f)
	metaProto := &expr.Meta{Key: expr.MetaKeyL4PROTO, Register: f.protoReg}
	port := &expr.Payload{DestRegister: f.portReg, Base: expr.PayloadBaseTransportHeader, Offset: d.portOff, Len: 2}
	ports := append(nfprotoMatch(&f),
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Payload{DestRegister: reg32_01, Base: expr.PayloadBaseTransportHeader, Offset: d.portOff, Len: 2},
		&expr.Lookup{SourceRegister: 1, SetName: portSet.name, SetID: portSet.id},
	)
	protos := append(nfprotoMatch(&f),
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Lookup{SourceRegister: 1, SetName: protoSet.name, SetID: protoSet.id},
	)
	return [][]expr.Any{
		k.update(ports, metaProto, port),
		k.natt(d.portOff, expr.CmpOpEq, unix.IPPROTO_UDP),
		k.natt(d.portOff, expr.CmpOpNeq, unix.IPPROTO_ESP),
		k.update(protos, metaProto, imm(f.portReg, []byte{0, 0})),
	}
}

// nfprotoMatch is the head of every counting rule: `meta nfproto <family>`.
func nfprotoMatch(f *obsFamily) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{f.nfproto}},
	}
}

// imm loads a key field. Immediates carry the field's own length (1 byte
// protocol, 2 byte port): the kernel zeroes the rest of the register, and
// nft can display the rule.
func imm(reg uint32, b []byte) expr.Any { return &expr.Immediate{Register: reg, Data: b} }

// countKey builds the set update ending each counting rule of one family
// and direction.
type countKey struct {
	f                *obsFamily
	hostOff, peerOff uint32
	set              setRef
}

// update appends `update @set { host . peer . proto . port }` to r.
func (k *countKey) update(r []expr.Any, proto, port expr.Any) []expr.Any {
	return append(r,
		&expr.Payload{DestRegister: regKey, Base: expr.PayloadBaseNetworkHeader, Offset: k.hostOff, Len: k.f.addrLen},
		&expr.Payload{DestRegister: k.f.peerReg, Base: expr.PayloadBaseNetworkHeader, Offset: k.peerOff, Len: k.f.addrLen},
		proto, port,
		&expr.Dynset{SrcRegKey: regKey, SetName: k.set.name, SetID: k.set.id, Operation: unix.NFT_DYNSET_OP_UPDATE},
	)
}

// natt is a UDP 4500 rule: the 4 bytes after the UDP header compared with
// zero (op) tell IKE (the non-ESP marker) from ESP, counted as proto.
func (k *countKey) natt(portOff uint32, op expr.CmpOp, proto byte) []expr.Any {
	r := append(nfprotoMatch(k.f),
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_UDP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: portOff, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: be16(vpn.PortNATT)},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 8, Len: 4},
		&expr.Cmp{Op: op, Register: 1, Data: []byte{0, 0, 0, 0}},
	)
	return k.update(r, imm(k.f.protoReg, []byte{proto}), imm(k.f.portReg, be16(vpn.PortNATT)))
}

// portElements are the (protocol . port) pairs counted by port.
func portElements() [][]byte {
	var out [][]byte
	for _, p := range vpn.ObservedPorts() {
		out = append(out, append(pad4([]byte{byte(p[0])}), pad4(be16(p[1]))...))
	}
	return out
}

// protoElements are the IP protocols counted without a port.
func protoElements() [][]byte {
	var out [][]byte
	for _, l4 := range vpn.ObservedL4() {
		out = append(out, []byte{l4})
	}
	return out
}
