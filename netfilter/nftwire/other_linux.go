package nftwire

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"
)

// Attribute numbers the pinned x/sys lacks (google/nftables' constants).
const (
	attrDynsetExprs    = 10 // NFTA_DYNSET_EXPRESSIONS
	attrConnlimitCount = 1  // NFTA_CONNLIMIT_COUNT
	attrConnlimitFlags = 2  // NFTA_CONNLIMIT_FLAGS
	attrFlowTable      = 1  // NFTA_FLOW_TABLE_NAME
	attrSocketKey      = 1  // NFTA_SOCKET_KEY
	attrSocketDreg     = 2  // NFTA_SOCKET_DREG
	attrSocketLevel    = 3  // NFTA_SOCKET_LEVEL
	attrTproxyFamily   = 1  // NFTA_TPROXY_FAMILY
	attrTproxyAddr     = 2  // NFTA_TPROXY_REG_ADDR
	attrTproxyPort     = 3  // NFTA_TPROXY_REG_PORT
	attrSynproxyMss    = 1  // NFTA_SYNPROXY_MSS
	attrSynproxyWs     = 2  // NFTA_SYNPROXY_WSCALE
	attrSynproxyFlag   = 3  // NFTA_SYNPROXY_FLAGS
)

// rd reads fixed-size attribute values as google/nftables' decoders do
// (netlink's AttributeDecoder): a value of the wrong size makes the whole
// expression undecodable (bad), so that what we return field for field
// equals what the library returned, and *Opaque where it failed.
type rd struct{ bad bool }

func (r *rd) u32(v []byte) uint32 {
	if len(v) != 4 {
		r.bad = true
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

// u32p reads the first 4 bytes of at least 4 (the library's
// binaryutil.BigEndian.Uint32 on the raw bytes).
func (r *rd) u32p(v []byte) uint32 {
	if len(v) < 4 {
		r.bad = true
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

func (r *rd) u16(v []byte) uint16 {
	if len(v) != 2 {
		r.bad = true
		return 0
	}
	return binary.BigEndian.Uint16(v)
}

func (r *rd) u16p(v []byte) uint16 {
	if len(v) < 2 {
		r.bad = true
		return 0
	}
	return binary.BigEndian.Uint16(v)
}

func (r *rd) u8(v []byte) uint8 {
	if len(v) != 1 {
		r.bad = true
		return 0
	}
	return v[0]
}

func (r *rd) u64(v []byte) uint64 {
	if len(v) != 8 {
		r.bad = true
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// str is netlink's string: every trailing NUL cut.
func str(v []byte) string { return string(bytes.TrimRight(v, "\x00")) }

// decodeOther decodes the expressions fastDecode leaves, each into the type
// google/nftables v0.3.0 decodes it into (field for field what its
// unmarshal gave: TestDecodeMatchesLibrary, FuzzDecodeExprs), with the
// repairs we had on top of it; nil for a name we do not decode.
func decodeOther(fam byte, name string, data []byte) expr.Any {
	r := &rd{}
	var e expr.Any
	var err error
	switch name {
	case "byteorder", "rt", "xfrm":
		return decodeUnimplemented(name, data)
	case "notrack":
		return &expr.Notrack{}
	case "match", "target":
		e, err = decodeXt(r, fam, name, data)
	case "dynset":
		e, err = decodeDynset(r, fam, data)
	case "log":
		e, err = decodeLog(r, data)
	case "limit":
		e, err = decodeLimit(r, data)
	case "objref":
		o := &expr.Objref{}
		set := false
		err = EachAttr(data, func(t uint16, v []byte) error {
			switch t {
			case unix.NFTA_OBJREF_IMM_TYPE:
				o.Type = int(r.u32(v))
			case unix.NFTA_OBJREF_IMM_NAME:
				o.Name = str(v)
			case unix.NFTA_OBJREF_SET_SREG:
				set = true
			}
			return nil
		})
		if set {
			// `ct helper set udp dport map {...}`: no name to read.
			return &Opaque{Name: "objref map"}
		}
		e = o
	default:
		e, err = decodeRegs(r, name, data)
	}
	if e == nil {
		return nil
	}
	if err != nil || r.bad {
		return &Opaque{Name: name}
	}
	return e
}

// decodeRegs decodes the expressions that are registers, numbers and flags.
func decodeRegs(r *rd, name string, data []byte) (expr.Any, error) {
	var e expr.Any
	var fn func(t uint16, v []byte)
	switch name {
	case "connlimit":
		x := &expr.Connlimit{}
		e, fn = x, func(t uint16, v []byte) {
			switch t {
			case attrConnlimitCount:
				x.Count = r.u32p(v)
			case attrConnlimitFlags:
				x.Flags = r.u32p(v)
			}
		}
	case "dup":
		x := &expr.Dup{}
		e, fn = x, func(t uint16, v []byte) {
			switch t {
			case unix.NFTA_DUP_SREG_ADDR:
				x.RegAddr = r.u32(v)
			case unix.NFTA_DUP_SREG_DEV:
				x.RegDev = r.u32(v)
			}
		}
	case "exthdr":
		x := &expr.Exthdr{}
		e, fn = x, func(t uint16, v []byte) {
			switch t {
			case unix.NFTA_EXTHDR_DREG:
				x.DestRegister = r.u32(v)
			case unix.NFTA_EXTHDR_TYPE:
				x.Type = r.u8(v)
			case unix.NFTA_EXTHDR_OFFSET:
				x.Offset = r.u32(v)
			case unix.NFTA_EXTHDR_LEN:
				x.Len = r.u32(v)
			case unix.NFTA_EXTHDR_FLAGS:
				x.Flags = r.u32(v)
			case unix.NFTA_EXTHDR_OP:
				x.Op = expr.ExthdrOp(r.u32(v))
			case unix.NFTA_EXTHDR_SREG:
				x.SourceRegister = r.u32(v)
			}
		}
	case "fib":
		x := &expr.Fib{}
		e, fn = x, func(t uint16, v []byte) {
			switch t {
			case unix.NFTA_FIB_DREG:
				x.Register = r.u32(v)
			case unix.NFTA_FIB_RESULT:
				switch r.u32(v) {
				case unix.NFT_FIB_RESULT_OIF:
					x.ResultOIF = true
				case unix.NFT_FIB_RESULT_OIFNAME:
					x.ResultOIFNAME = true
				case unix.NFT_FIB_RESULT_ADDRTYPE:
					x.ResultADDRTYPE = true
				}
			case unix.NFTA_FIB_FLAGS:
				f := r.u32(v)
				x.FlagSADDR, x.FlagDADDR = f&unix.NFTA_FIB_F_SADDR != 0, f&unix.NFTA_FIB_F_DADDR != 0
				x.FlagMARK, x.FlagIIF = f&unix.NFTA_FIB_F_MARK != 0, f&unix.NFTA_FIB_F_IIF != 0
				x.FlagOIF, x.FlagPRESENT = f&unix.NFTA_FIB_F_OIF != 0, f&unix.NFTA_FIB_F_PRESENT != 0
			}
		}
	case "flow_offload":
		x := &expr.FlowOffload{}
		e, fn = x, func(t uint16, v []byte) {
			if t == attrFlowTable {
				x.Name = str(v)
			}
		}
	case "hash":
		x := &expr.Hash{}
		e, fn = x, func(t uint16, v []byte) {
			switch t {
			case unix.NFTA_HASH_SREG:
				x.SourceRegister = r.u32(v)
			case unix.NFTA_HASH_DREG:
				x.DestRegister = r.u32(v)
			case unix.NFTA_HASH_LEN:
				x.Length = r.u32(v)
			case unix.NFTA_HASH_MODULUS:
				x.Modulus = r.u32(v)
			case unix.NFTA_HASH_SEED:
				x.Seed = r.u32(v)
			case unix.NFTA_HASH_OFFSET:
				x.Offset = r.u32(v)
			case unix.NFTA_HASH_TYPE:
				x.Type = expr.HashType(r.u32(v))
			}
		}
	case "masq":
		x := &expr.Masq{}
		e, fn = x, func(t uint16, v []byte) {
			switch t {
			case unix.NFTA_MASQ_REG_PROTO_MIN:
				x.ToPorts, x.RegProtoMin = true, r.u32(v)
			case unix.NFTA_MASQ_REG_PROTO_MAX:
				x.RegProtoMax = r.u32(v)
			case unix.NFTA_MASQ_FLAGS:
				f := r.u32(v)
				x.Persistent, x.Random = f&unix.NF_NAT_RANGE_PERSISTENT != 0, f&unix.NF_NAT_RANGE_PROTO_RANDOM != 0
				x.FullyRandom = f&unix.NF_NAT_RANGE_PROTO_RANDOM_FULLY != 0
			}
		}
	case "nat":
		x := &expr.NAT{}
		e, fn = x, func(t uint16, v []byte) {
			switch t {
			case unix.NFTA_NAT_TYPE:
				x.Type = expr.NATType(r.u32(v))
			case unix.NFTA_NAT_FAMILY:
				x.Family = r.u32(v)
			case unix.NFTA_NAT_REG_ADDR_MIN:
				x.RegAddrMin = r.u32(v)
			case unix.NFTA_NAT_REG_ADDR_MAX:
				x.RegAddrMax = r.u32(v)
			case unix.NFTA_NAT_REG_PROTO_MIN:
				x.RegProtoMin = r.u32(v)
			case unix.NFTA_NAT_REG_PROTO_MAX:
				x.RegProtoMax = r.u32(v)
			case unix.NFTA_NAT_FLAGS:
				f := r.u32(v)
				x.Persistent, x.Random = f&unix.NF_NAT_RANGE_PERSISTENT != 0, f&unix.NF_NAT_RANGE_PROTO_RANDOM != 0
				x.FullyRandom, x.Prefix = f&unix.NF_NAT_RANGE_PROTO_RANDOM_FULLY != 0, f&unix.NF_NAT_RANGE_NETMAP != 0
				x.Specified = f&unix.NF_NAT_RANGE_PROTO_SPECIFIED != 0
			}
		}
	default:
		return decodeRegs2(r, name, data)
	}
	return e, EachAttr(data, func(t uint16, v []byte) error { fn(t, v); return nil })
}

// decodeRegs2 is decodeRegs' second half (short functions).
func decodeRegs2(r *rd, name string, data []byte) (expr.Any, error) {
	var e expr.Any
	var fn func(t uint16, v []byte)
	switch name {
	case "numgen":
		x := &expr.Numgen{}
		e, fn = x, func(t uint16, v []byte) {
			switch t {
			case unix.NFTA_NG_DREG:
				x.Register = r.u32(v)
			case unix.NFTA_NG_MODULUS:
				x.Modulus = r.u32(v)
			case unix.NFTA_NG_TYPE:
				x.Type = r.u32(v)
			case unix.NFTA_NG_OFFSET:
				x.Offset = r.u32(v)
			}
		}
	case "queue":
		x := &expr.Queue{}
		e, fn = x, func(t uint16, v []byte) {
			switch t {
			case unix.NFTA_QUEUE_NUM:
				x.Num = r.u16(v)
			case unix.NFTA_QUEUE_TOTAL:
				x.Total = r.u16(v)
			case unix.NFTA_QUEUE_FLAGS:
				x.Flag = expr.QueueFlag(r.u16(v))
			}
		}
	case "quota":
		x := &expr.Quota{}
		e, fn = x, func(t uint16, v []byte) {
			switch t {
			case unix.NFTA_QUOTA_BYTES:
				x.Bytes = r.u64(v)
			case unix.NFTA_QUOTA_CONSUMED:
				x.Consumed = r.u64(v)
			case unix.NFTA_QUOTA_FLAGS:
				x.Over = r.u32(v)&unix.NFT_QUOTA_F_INV != 0
			}
		}
	case "range":
		x := &expr.Range{}
		e, fn = x, func(t uint16, v []byte) {
			switch t {
			case unix.NFTA_RANGE_OP:
				x.Op = expr.CmpOp(r.u32(v))
			case unix.NFTA_RANGE_SREG:
				x.Register = r.u32(v)
			case unix.NFTA_RANGE_FROM_DATA:
				x.FromData = r.firstValue(v, x.FromData)
			case unix.NFTA_RANGE_TO_DATA:
				x.ToData = r.firstValue(v, x.ToData)
			}
		}
	case "redir":
		x := &expr.Redir{}
		e, fn = x, func(t uint16, v []byte) {
			switch t {
			case unix.NFTA_REDIR_REG_PROTO_MIN:
				x.RegisterProtoMin = r.u32(v)
			case unix.NFTA_REDIR_REG_PROTO_MAX:
				x.RegisterProtoMax = r.u32(v)
			case unix.NFTA_REDIR_FLAGS:
				x.Flags = r.u32(v)
			}
		}
	case "reject":
		x := &expr.Reject{}
		e, fn = x, func(t uint16, v []byte) {
			switch t {
			case unix.NFTA_REJECT_TYPE:
				x.Type = r.u32(v)
			case unix.NFTA_REJECT_ICMP_CODE:
				x.Code = r.u8(v)
			}
		}
	default:
		return decodeRegs3(r, name, data)
	}
	return e, EachAttr(data, func(t uint16, v []byte) error { fn(t, v); return nil })
}

// decodeRegs3: socket, synproxy, tproxy (types the library's name table
// lacked: it never decoded them in a rule).
func decodeRegs3(r *rd, name string, data []byte) (expr.Any, error) {
	var e expr.Any
	var fn func(t uint16, v []byte)
	switch name {
	case "socket":
		x := &expr.Socket{}
		e, fn = x, func(t uint16, v []byte) {
			switch t {
			case attrSocketDreg:
				x.Register = r.u32(v)
			case attrSocketKey:
				x.Key = expr.SocketKey(r.u32(v))
			case attrSocketLevel:
				x.Level = r.u32(v)
			}
		}
	case "synproxy":
		x := &expr.SynProxy{}
		e, fn = x, func(t uint16, v []byte) {
			switch t {
			case attrSynproxyMss:
				x.Mss = r.u16(v)
			case attrSynproxyWs:
				x.Wscale = r.u8(v)
			case attrSynproxyFlag:
				f := r.u32(v)
				x.MssValueSet, x.WscaleValueSet, x.SackPerm = f&1 != 0, f&2 != 0, f&4 != 0
				x.Timestamp, x.Ecn = f&8 != 0, f&16 != 0
			}
		}
	case "tproxy":
		x := &expr.TProxy{}
		e, fn = x, func(t uint16, v []byte) {
			switch t {
			case attrTproxyFamily:
				x.Family = r.u8(v)
			case attrTproxyPort:
				x.RegPort = r.u32(v)
			case attrTproxyAddr:
				x.RegAddr = r.u32(v)
			}
		}
	default:
		return nil, nil
	}
	return e, EachAttr(data, func(t uint16, v []byte) error { fn(t, v); return nil })
}

// firstValue is the library's reading of an nft_data: the value of its
// first attribute if that is NFTA_DATA_VALUE, else old.
func (r *rd) firstValue(b []byte, old []byte) []byte {
	first := true
	err := EachAttr(b, func(t uint16, v []byte) error {
		if first && t == unix.NFTA_DATA_VALUE {
			old = append([]byte(nil), v...)
		}
		first = false
		return nil
	})
	r.bad = r.bad || err != nil
	return old
}

// decodeLog: Key records which attributes were present.
func decodeLog(r *rd, data []byte) (expr.Any, error) {
	x := &expr.Log{}
	return x, EachAttr(data, func(t uint16, v []byte) error {
		x.Key |= 1 << uint32(t)
		switch t {
		case unix.NFTA_LOG_GROUP:
			x.Group = r.u16p(v)
		case unix.NFTA_LOG_PREFIX:
			if len(v) == 0 {
				r.bad = true
				return nil
			}
			x.Data = append([]byte(nil), v[:len(v)-1]...)
		case unix.NFTA_LOG_SNAPLEN:
			x.Snaplen = r.u32p(v)
		case unix.NFTA_LOG_QTHRESHOLD:
			x.QThreshold = r.u16p(v)
		case unix.NFTA_LOG_LEVEL:
			x.Level = expr.LogLevel(r.u32p(v))
		case unix.NFTA_LOG_FLAGS:
			x.Flags = expr.LogFlags(r.u32p(v))
		}
		return nil
	})
}

// decodeLimit: the library refused unknown attributes, types and units.
func decodeLimit(r *rd, data []byte) (expr.Any, error) {
	x := &expr.Limit{}
	return x, EachAttr(data, func(t uint16, v []byte) error {
		switch t {
		case unix.NFTA_LIMIT_RATE:
			x.Rate = r.u64(v)
		case unix.NFTA_LIMIT_UNIT:
			switch u := expr.LimitTime(r.u64(v)); u {
			case expr.LimitTimeSecond, expr.LimitTimeMinute, expr.LimitTimeHour, expr.LimitTimeDay, expr.LimitTimeWeek:
				x.Unit = u
			default:
				r.bad = true
			}
		case unix.NFTA_LIMIT_BURST:
			x.Burst = r.u32(v)
		case unix.NFTA_LIMIT_TYPE:
			x.Type = expr.LimitType(r.u32(v))
			r.bad = r.bad || (x.Type != expr.LimitTypePkts && x.Type != expr.LimitTypePktBytes)
		case unix.NFTA_LIMIT_FLAGS:
			x.Over = r.u32(v)&unix.NFT_LIMIT_F_INV != 0
		default:
			r.bad = true
		}
		return nil
	})
}

// decodeDynset decodes a dynset; its expressions (NFTA_DYNSET_EXPR, one,
// or NFTA_DYNSET_EXPRESSIONS, a list) as the library did: unknown names
// left out, any undecodable one fails the dynset.
func decodeDynset(r *rd, fam byte, data []byte) (expr.Any, error) {
	x := &expr.Dynset{}
	return x, EachAttr(data, func(t uint16, v []byte) error {
		switch t {
		case unix.NFTA_DYNSET_SET_NAME:
			x.SetName = str(v)
		case unix.NFTA_DYNSET_SET_ID:
			x.SetID = r.u32(v)
		case unix.NFTA_DYNSET_SREG_KEY:
			x.SrcRegKey = r.u32(v)
		case unix.NFTA_DYNSET_SREG_DATA:
			x.SrcRegData = r.u32(v)
		case unix.NFTA_DYNSET_OP:
			x.Operation = r.u32(v)
		case unix.NFTA_DYNSET_TIMEOUT:
			x.Timeout = time.Millisecond * time.Duration(r.u64(v))
		case unix.NFTA_DYNSET_FLAGS:
			x.Invert = r.u32(v)&unix.NFT_DYNSET_F_INV != 0
		case unix.NFTA_DYNSET_EXPR:
			x.Exprs = r.innerExprs(fam, v, nil)
		case attrDynsetExprs:
			var all []expr.Any
			err := EachAttr(v, func(_ uint16, elem []byte) error {
				all = r.innerExprs(fam, elem, all)
				return nil
			})
			r.bad = r.bad || err != nil
			x.Exprs = append([]expr.Any{}, all...)
		}
		return nil
	})
}

// innerExprs appends the expression of one name/data pair to out (a
// non-nil slice, as the library's).
func (r *rd) innerExprs(fam byte, b []byte, out []expr.Any) []expr.Any {
	if out == nil {
		out = []expr.Any{}
	}
	var name string
	err := EachAttr(b, func(t uint16, v []byte) error {
		switch t {
		case unix.NFTA_EXPR_NAME:
			if name = str(v); name == "notrack" {
				out = append(out, &expr.Notrack{})
			}
		case unix.NFTA_EXPR_DATA:
			if name == "notrack" || name == "" {
				return nil
			}
			if !libNamed(name) {
				return nil
			}
			switch e := decodeExpr(fam, exprNameString([]byte(name)), v).(type) {
			case *Opaque:
				r.bad = true
			default:
				out = append(out, e)
			}
		}
		return nil
	})
	r.bad = r.bad || err != nil
	return out
}

// libNamed: the names google/nftables' table decoded in a dynset (it left
// the others out; cthelper and the like it read as objects, which no
// kernel sends there: we fail those).
func libNamed(name string) bool {
	for _, n := range exprNames {
		switch n {
		case "byteorder", "dup", "notrack", "rt", "socket", "tproxy", "xfrm", "last":
			continue
		}
		if n == name {
			return true
		}
	}
	return name == "cthelper" || name == "ctexpect" || name == "secmark" || name == "cttimeout"
}

// xtCommentSize is the fixed size of xt_comment's text (XT_MAX_COMMENT_LEN).
const xtCommentSize = 256

// decodeXt decodes an xtables match or target (iptables-nft). Only the
// comment match's info is decoded (ipt finds our tag in it); every other
// info stays its raw bytes, as *xt.Unknown: nothing reads them, and
// google/nftables/xt's decoders for them were 16 KB of the binary.
// TestDecodeMatchesLibrary checks that xt.Unmarshal of those bytes is what
// the library decoded.
func decodeXt(r *rd, fam byte, name string, data []byte) (expr.Any, error) {
	var xname string
	var rev uint32
	var info []byte
	nameAttr, revAttr, infoAttr := uint16(unix.NFTA_MATCH_NAME), uint16(unix.NFTA_MATCH_REV), uint16(unix.NFTA_MATCH_INFO)
	if name == "target" {
		nameAttr, revAttr, infoAttr = unix.NFTA_TARGET_NAME, unix.NFTA_TARGET_REV, unix.NFTA_TARGET_INFO
	}
	err := EachAttr(data, func(t uint16, v []byte) error {
		switch t {
		case nameAttr:
			xname = str(v)
		case revAttr:
			rev = r.u32(v)
		case infoAttr:
			info = v
		}
		return nil
	})
	var in xt.InfoAny
	if xname == "comment" {
		if len(info) != xtCommentSize {
			r.bad = true
		}
		c := xt.Comment(bytes.TrimRight(info, "\x00"))
		in = &c
	} else {
		u := xt.Unknown(append([]byte(nil), info...))
		in = &u
	}
	if name == "target" {
		return &expr.Target{Name: xname, Rev: rev, Info: in}, err
	}
	return &expr.Match{Name: xname, Rev: rev, Info: in}, err
}
