package nfteval

import (
	"reflect"

	"github.com/vpnpass/vpnpass/netfilter/nftwire"

	"strings"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// kind says how to print the values of a loaded field.
type kind int

const (
	kHex kind = iota
	kIfname
	kIfindex
	kProto
	kNfproto
	kEther
	kPort
	kAddr
	kCtState
	kCtDir
	kHostInt
	kTCPFlags
	kPkttype
	kDec
)

// field is what a register holds, for printing: "udp dport" and its kind.
type field struct {
	name string
	kind kind
}

// metaFields and ctFields are indexed by key: static tables, no map to
// build at start.
var metaFields = [...]field{
	expr.MetaKeyLEN: {"meta length", kHostInt}, expr.MetaKeyPROTOCOL: {"meta protocol", kEther},
	expr.MetaKeyPRIORITY: {"meta priority", kHostInt}, expr.MetaKeyMARK: {"meta mark", kHostInt},
	expr.MetaKeyIIF: {"iif", kIfindex}, expr.MetaKeyOIF: {"oif", kIfindex},
	expr.MetaKeyIIFNAME: {"iifname", kIfname}, expr.MetaKeyOIFNAME: {"oifname", kIfname},
	expr.MetaKeyIIFTYPE: {"iiftype", kHostInt}, expr.MetaKeyOIFTYPE: {"oiftype", kHostInt},
	expr.MetaKeySKUID: {"meta skuid", kHostInt}, expr.MetaKeySKGID: {"meta skgid", kHostInt},
	expr.MetaKeyNFTRACE: {"meta nftrace", kDec}, expr.MetaKeyRTCLASSID: {"meta rtclassid", kHostInt},
	expr.MetaKeySECMARK: {"meta secmark", kHostInt}, expr.MetaKeyNFPROTO: {"meta nfproto", kNfproto},
	expr.MetaKeyL4PROTO: {"meta l4proto", kProto}, expr.MetaKeyBRIIIFNAME: {"meta ibrname", kIfname},
	expr.MetaKeyBRIOIFNAME: {"meta obrname", kIfname}, expr.MetaKeyPKTTYPE: {"meta pkttype", kPkttype},
	expr.MetaKeyCPU: {"meta cpu", kHostInt}, expr.MetaKeyIIFGROUP: {"iifgroup", kHostInt},
	expr.MetaKeyOIFGROUP: {"oifgroup", kHostInt}, expr.MetaKeyCGROUP: {"meta cgroup", kHostInt},
	expr.MetaKeyPRANDOM: {"meta random", kHostInt},
}

func metaField(k expr.MetaKey) field {
	if k < expr.MetaKey(len(metaFields)) && metaFields[k].name != "" {
		return metaFields[k]
	}
	return field{"meta key " + utoa(uint64(k)), kHex}
}

var ctFields = [...]field{
	expr.CtKeySTATE: {"ct state", kCtState}, expr.CtKeyDIRECTION: {"ct direction", kCtDir},
	expr.CtKeySTATUS: {"ct status", kHostInt}, expr.CtKeyMARK: {"ct mark", kHostInt},
	expr.CtKeySECMARK: {"ct secmark", kHostInt}, expr.CtKeyEXPIRATION: {"ct expiration", kHostInt},
	expr.CtKeyHELPER: {"ct helper", kIfname}, expr.CtKeyL3PROTOCOL: {"ct l3proto", kNfproto},
	expr.CtKeySRC: {"ct saddr", kAddr}, expr.CtKeyDST: {"ct daddr", kAddr},
	expr.CtKeyPROTOCOL: {"ct protocol", kProto}, expr.CtKeyPROTOSRC: {"ct proto-src", kPort},
	expr.CtKeyPROTODST: {"ct proto-dst", kPort}, expr.CtKeyLABELS: {"ct label", kHex},
	expr.CtKeyPKTS: {"ct packets", kHostInt}, expr.CtKeyBYTES: {"ct bytes", kHostInt},
	expr.CtKeyAVGPKT: {"ct avgpkt", kHostInt}, expr.CtKeyZONE: {"ct zone", kHostInt},
	expr.CtKeyEVENTMASK: {"ct event", kHostInt},
}

func ctField(e *expr.Ct) field {
	if e.Key < expr.CtKey(len(ctFields)) && ctFields[e.Key].name != "" {
		return ctFields[e.Key]
	}
	return field{"ct key " + utoa(uint64(e.Key)), kHex}
}

// payloadField names a header field; nfproto and l4 are what the rule has
// established so far (0: unknown).
func payloadField(e *expr.Payload, nfproto, l4 byte) field {
	base := "@ll,"
	switch e.Base {
	case expr.PayloadBaseNetworkHeader:
		if f, ok := networkField(e.Offset, e.Len, nfproto); ok {
			return f
		}
		base = "@nh,"
	case expr.PayloadBaseTransportHeader:
		if f, ok := transportField(e.Offset, e.Len, l4); ok {
			return f
		}
		base = "@th,"
	}
	return field{base + utoa(uint64(e.Offset*8)) + "," + utoa(uint64(e.Len*8)), kHex}
}

func networkField(off, n uint32, nfproto byte) (field, bool) {
	switch nfproto {
	case unix.NFPROTO_IPV4:
		switch {
		case off == 9 && n == 1:
			return field{"ip protocol", kProto}, true
		case off == 12 && n <= 4:
			return field{"ip saddr", kAddr}, true
		case off == 16 && n <= 4:
			return field{"ip daddr", kAddr}, true
		}
	case unix.NFPROTO_IPV6:
		switch {
		case off == 6 && n == 1:
			return field{"ip6 nexthdr", kProto}, true
		case off == 8 && n <= 16:
			return field{"ip6 saddr", kAddr}, true
		case off == 24 && n <= 16:
			return field{"ip6 daddr", kAddr}, true
		}
	}
	return field{}, false
}

func transportField(off, n uint32, l4 byte) (field, bool) {
	proto := ""
	switch l4 {
	case unix.IPPROTO_TCP, unix.IPPROTO_UDP, unix.IPPROTO_UDPLITE, unix.IPPROTO_SCTP, unix.IPPROTO_ICMP, unix.IPPROTO_ICMPV6:
		proto = nameOr(uint64(l4), protoNames, "")
	}
	switch {
	case (proto == "icmp" || proto == "icmpv6") && n == 1 && off <= 1:
		return field{proto + []string{" type", " code"}[off], kDec}, true
	case proto == "tcp" && off == 13 && n == 1:
		return field{"tcp flags", kTCPFlags}, true
	case n == 2 && (off == 0 || off == 2):
		if proto == "" || proto == "icmp" || proto == "icmpv6" {
			proto = "th"
		}
		return field{proto + []string{" sport", " dport"}[off/2], kPort}, true
	}
	return field{}, false
}

// loadName says what an expression loaded, for "X is not known" reasons;
// nfproto and l4 are the packet's.
func loadName(e expr.Any, nfproto, l4 byte) string {
	switch x := e.(type) {
	case *expr.Meta:
		return metaField(x.Key).name
	case *expr.Ct:
		return ctField(x).name
	case *expr.Payload:
		return payloadField(x, nfproto, l4).name
	}
	return exprName(e)
}

func tableNfproto(fam string) byte {
	switch fam {
	case "ip":
		return unix.NFPROTO_IPV4
	case "ip6":
		return unix.NFPROTO_IPV6
	}
	return 0
}

// exprName names an expression as nft's debug output does.
func exprName(e expr.Any) string {
	switch x := e.(type) {
	case *nftwire.Opaque:
		return x.Name
	case *expr.Match:
		return "xt match " + x.Name
	case *expr.Target:
		return "xt target " + x.Name
	case *expr.Numgen:
		return "numgen"
	case *expr.Hash:
		return "jhash"
	case *expr.Fib:
		return "fib"
	case *expr.Rt:
		return "rt"
	case *expr.Socket:
		return "socket"
	case *expr.Exthdr:
		return "exthdr"
	case *expr.Lookup:
		return "map @" + x.SetName
	case nil:
		return "<nil>" // as fmt's %T spells it
	}
	// The type's name as fmt's %T spells it (which calls the same).
	return strings.ToLower(strings.TrimPrefix(reflect.TypeOf(e).String(), "*expr."))
}

// metaLen is the length of what `meta <key>` loads (nft_meta_get_init).
func metaLen(k expr.MetaKey) int {
	switch k {
	case expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME, expr.MetaKeyBRIIIFNAME, expr.MetaKeyBRIOIFNAME:
		return unix.IFNAMSIZ
	case expr.MetaKeyNFPROTO, expr.MetaKeyL4PROTO, expr.MetaKeyPKTTYPE, expr.MetaKeyNFTRACE:
		return 1
	case expr.MetaKeyPROTOCOL, expr.MetaKeyIIFTYPE, expr.MetaKeyOIFTYPE:
		return 2
	}
	return 4
}

// ctLen is the length of what `ct <key>` loads (nft_ct_get_init).
func ctLen(k expr.CtKey) int {
	switch k {
	case expr.CtKeyDIRECTION, expr.CtKeyL3PROTOCOL, expr.CtKeyPROTOCOL:
		return 1
	case expr.CtKeyPROTOSRC, expr.CtKeyPROTODST, expr.CtKeyZONE:
		return 2
	case expr.CtKeyPKTS, expr.CtKeyBYTES, expr.CtKeyAVGPKT:
		return 8
	case expr.CtKeySRC, expr.CtKeyDST, expr.CtKeyLABELS, expr.CtKeyHELPER:
		return 16
	}
	return 4
}
