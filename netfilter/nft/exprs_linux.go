package nft

import (
	"strings"

	"github.com/vpnpass/vpnpass/netfilter/nftwire"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/vpnpass/vpnpass/vpn"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter"
)

// Values fixed by the kernel ABI that x/sys/unix does not name.
const (
	ctDirReply = 1 // IP_CT_DIR_REPLY
	reg1       = unix.NFT_REG_1
)

// lookupFunc returns the expression matching register 1 against a set of
// interface names (creating the anonymous set when building a batch).
type lookupFunc func(names []string) expr.Any

func cmpEq(data []byte) expr.Any {
	return &expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: data}
}

func meta(k expr.MetaKey) expr.Any { return &expr.Meta{Key: k, Register: reg1} }

func ifnameExprs(k expr.MetaKey, names []string, lookup lookupFunc) []expr.Any {
	if len(names) == 1 {
		return []expr.Any{meta(k), cmpEq(nftwire.IfnameBytes(names[0]))}
	}
	return []expr.Any{meta(k), lookup(names)}
}

// ctStateExprs matches `ct state <mask>`. The state bitmask is a host-endian
// u32 in the kernel, so it is encoded in native byte order (big-endian MIPS).
func ctStateExprs(mask uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: reg1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(mask), Xor: binaryutil.NativeEndian.PutUint32(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: reg1, Data: binaryutil.NativeEndian.PutUint32(0)},
	}
}

// text renders the rule in nft syntax, as it goes into the include file and
// the dry-run: the rule's expressions read back by describe, the one
// renderer of this package (so a rule we add and the same rule read back
// from the kernel read the same; the golden include files pin the text).
func (r ruleSpec) text() string {
	return describe(r.exprs(markerLookup), netfilter.Tag(r.proto), resolveMarker)
}

// includeText renders the allow rules of d for fw4's forward chain (inet).
// It returns "" when d allows nothing: then no file is needed.
func (c config) includeText(d netfilter.Desired) string {
	specs := c.foreignSpecs(d, famInet)
	if len(specs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(includeHeader)
	for _, s := range specs {
		b.WriteString(s.text())
		b.WriteByte('\n')
	}
	return b.String()
}

// exprs renders the rule as netlink expressions, in the nft order of its text.
func (r ruleSpec) exprs(lookup lookupFunc) []expr.Any {
	var out []expr.Any
	add := func(e ...expr.Any) { out = append(out, e...) }
	switch r.kind {
	case kindReply:
		add(ifnameExprs(expr.MetaKeyIIFNAME, r.wan, lookup)...)
		add(ifnameExprs(expr.MetaKeyOIFNAME, r.lan, lookup)...)
	case kindHelperOut:
	default:
		add(ifnameExprs(expr.MetaKeyIIFNAME, r.lan, lookup)...)
		if r.kind == kindAllow || r.kind == kindBlock {
			add(ifnameExprs(expr.MetaKeyOIFNAME, r.wan, lookup)...)
		}
	}
	if r.nfproto != nfprotoAny {
		add(meta(expr.MetaKeyNFPROTO), cmpEq([]byte{r.nfproto}))
	}
	add(meta(expr.MetaKeyL4PROTO), cmpEq([]byte{r.l4}))
	hasPort := r.l4 == vpn.ProtoTCP || r.l4 == vpn.ProtoUDP
	port := binaryutil.BigEndian.PutUint16(r.port)
	switch {
	case r.kind == kindReply && hasPort:
		add(&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 2}, cmpEq(port))
		add(&expr.Ct{Register: reg1, Key: expr.CtKeyDIRECTION}, cmpEq([]byte{ctDirReply}))
		add(ctStateExprs(expr.CtStateBitESTABLISHED)...)
	case r.kind == kindReply:
		mask := expr.CtStateBitESTABLISHED
		if r.replyStates() != "established" {
			mask |= expr.CtStateBitRELATED
		}
		add(ctStateExprs(mask)...)
	case hasPort:
		add(&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2}, cmpEq(port))
	}
	switch r.kind {
	case kindAllow, kindReply:
		add(&expr.Verdict{Kind: expr.VerdictAccept})
	case kindBlock:
		add(&expr.Verdict{Kind: expr.VerdictDrop})
	default:
		add(&expr.Objref{Type: int(nftwire.ObjCtHelper), Name: HelperObject})
	}
	return out
}

// tagUserData is the rule comment as nft stores it (a TLV the `nft list`
// command shows as `comment "..."`).
func tagUserData(p vpn.Protocol) []byte {
	return userdata.AppendString(nil, userdata.TypeComment, netfilter.Tag(p))
}

// ruleProto returns the protocol a tagged rule belongs to ("" if untagged,
// or tagged with a protocol we do not know).
func ruleProto(r *nftwire.Rule) (vpn.Protocol, bool) {
	c := nftwire.RuleComment(r.UserData)
	if !netfilter.IsOurTag(c) {
		return "", false
	}
	p, err := vpn.ParseProtocol(c[len(netfilter.TagPrefix):])
	if err != nil {
		return "", true
	}
	return p, true
}
