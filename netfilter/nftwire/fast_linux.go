package nftwire

import (
	"encoding/binary"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// fastDecode decodes the expressions that make up nearly every rule (cmp,
// payload, meta, immediate and verdicts, counter, lookup, bitwise, ct) into
// the library's types with one walk over the attributes and no copies but
// the values kept. expr.Unmarshal makes a decoder and copies every
// attribute on the way; on a 10k-rule ruleset that was most of our time.
// TestFastDecode checks that both decode every expression of real dumps
// alike. ok is false for other expressions (and malformed ones), which go
// to expr.Unmarshal.
func fastDecode(name string, data []byte) (e expr.Any, ok bool) {
	var err error
	switch name {
	case "cmp":
		c := &expr.Cmp{}
		err = EachAttr(data, func(t uint16, v []byte) error {
			switch t {
			case unix.NFTA_CMP_SREG:
				c.Register = u32(v)
			case unix.NFTA_CMP_OP:
				c.Op = expr.CmpOp(u32(v))
			case unix.NFTA_CMP_DATA:
				c.Data = dataValue1(v)
			}
			return nil
		})
		e = c
	case "payload":
		e, err = fastPayload(data)
	case "meta":
		m := &expr.Meta{}
		err = EachAttr(data, func(t uint16, v []byte) error {
			switch t {
			case unix.NFTA_META_DREG:
				m.Register = u32(v)
			case unix.NFTA_META_SREG:
				m.Register, m.SourceRegister = u32(v), true
			case unix.NFTA_META_KEY:
				m.Key = expr.MetaKey(u32(v))
			}
			return nil
		})
		e = m
	case "immediate":
		e, err = fastImmediate(data)
	case "counter":
		c := &expr.Counter{}
		err = EachAttr(data, func(t uint16, v []byte) error {
			switch t {
			case unix.NFTA_COUNTER_BYTES:
				c.Bytes = u64(v)
			case unix.NFTA_COUNTER_PACKETS:
				c.Packets = u64(v)
			}
			return nil
		})
		e = c
	case "lookup":
		e, err = fastLookup(data)
	case "bitwise":
		e, err = fastBitwise(data)
	case "ct":
		e, err = fastCt(data)
	default:
		return nil, false
	}
	return e, err == nil
}

func fastPayload(data []byte) (expr.Any, error) {
	p := &expr.Payload{}
	err := EachAttr(data, func(t uint16, v []byte) error {
		switch t {
		case unix.NFTA_PAYLOAD_DREG:
			p.DestRegister = u32(v)
		case unix.NFTA_PAYLOAD_SREG:
			p.SourceRegister, p.OperationType = u32(v), expr.PayloadWrite
		case unix.NFTA_PAYLOAD_BASE:
			p.Base = expr.PayloadBase(u32(v))
		case unix.NFTA_PAYLOAD_OFFSET:
			p.Offset = u32(v)
		case unix.NFTA_PAYLOAD_LEN:
			p.Len = u32(v)
		case unix.NFTA_PAYLOAD_CSUM_TYPE:
			p.CsumType = expr.PayloadCsumType(u32(v))
		case unix.NFTA_PAYLOAD_CSUM_OFFSET:
			p.CsumOffset = u32(v)
		case unix.NFTA_PAYLOAD_CSUM_FLAGS:
			p.CsumFlags = u32(v)
		}
		return nil
	})
	return p, err
}

// fastImmediate returns an Immediate, or a Verdict for an immediate into
// the verdict register (as decodeExpr does for the library's decoding).
func fastImmediate(data []byte) (expr.Any, error) {
	imm := &expr.Immediate{}
	var verdict *expr.Verdict
	err := EachAttr(data, func(t uint16, v []byte) error {
		switch t {
		case unix.NFTA_IMMEDIATE_DREG:
			imm.Register = u32(v)
		case unix.NFTA_IMMEDIATE_DATA:
			return EachAttr(v, func(t uint16, d []byte) error {
				switch t {
				case unix.NFTA_DATA_VALUE:
					imm.Data = append([]byte(nil), d...)
				case unix.NFTA_DATA_VERDICT:
					verdict = fastVerdict(d)
				}
				return nil
			})
		}
		return nil
	})
	if imm.Register == unix.NFT_REG_VERDICT && len(imm.Data) == 0 && verdict != nil {
		return verdict, err
	}
	return imm, err
}

func fastVerdict(b []byte) *expr.Verdict {
	v := &expr.Verdict{}
	_ = EachAttr(b, func(t uint16, d []byte) error {
		switch t {
		case unix.NFTA_VERDICT_CODE:
			v.Kind = expr.VerdictKind(int32(u32(d)))
		case unix.NFTA_VERDICT_CHAIN:
			v.Chain = CString(d)
		}
		return nil
	})
	return v
}

func fastLookup(data []byte) (expr.Any, error) {
	l := &expr.Lookup{}
	err := EachAttr(data, func(t uint16, v []byte) error {
		switch t {
		case unix.NFTA_LOOKUP_SET:
			l.SetName = CString(v)
		case unix.NFTA_LOOKUP_SET_ID:
			l.SetID = u32(v)
		case unix.NFTA_LOOKUP_SREG:
			l.SourceRegister = u32(v)
		case unix.NFTA_LOOKUP_DREG:
			l.DestRegister, l.IsDestRegSet = u32(v), true
		case unix.NFTA_LOOKUP_FLAGS:
			l.Invert = u32(v)&unix.NFT_LOOKUP_F_INV != 0
		}
		return nil
	})
	return l, err
}

func fastBitwise(data []byte) (expr.Any, error) {
	b := &expr.Bitwise{}
	op := uint32(0)
	err := EachAttr(data, func(t uint16, v []byte) error {
		switch t {
		case unix.NFTA_BITWISE_SREG:
			b.SourceRegister = u32(v)
		case unix.NFTA_BITWISE_DREG:
			b.DestRegister = u32(v)
		case unix.NFTA_BITWISE_LEN:
			b.Len = u32(v)
		case unix.NFTA_BITWISE_MASK:
			b.Mask = dataValue1(v)
		case unix.NFTA_BITWISE_XOR:
			b.Xor = dataValue1(v)
		case attrBitwiseOp:
			op = u32(v)
		}
		return nil
	})
	if op != 0 {
		return &Opaque{Name: "bitwise", Dreg: b.DestRegister}, err
	}
	return b, err
}

func fastCt(data []byte) (expr.Any, error) {
	c := &expr.Ct{}
	err := EachAttr(data, func(t uint16, v []byte) error {
		switch t {
		case unix.NFTA_CT_DREG:
			c.Register = u32(v)
		case unix.NFTA_CT_SREG:
			c.Register, c.SourceRegister = u32(v), true
		case unix.NFTA_CT_KEY:
			c.Key = expr.CtKey(u32(v))
		case unix.NFTA_CT_DIRECTION:
			c.Direction = uint32(firstByte(v))
		}
		return nil
	})
	return c, err
}

// dataValue1 copies the NFTA_DATA_VALUE inside an nft_data attribute.
func dataValue1(b []byte) []byte {
	var out []byte
	_ = EachAttr(b, func(t uint16, d []byte) error {
		if t == unix.NFTA_DATA_VALUE {
			out = append([]byte(nil), d...)
		}
		return nil
	})
	return out
}

func u32(b []byte) uint32 {
	if len(b) < 4 {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func u64(b []byte) uint64 {
	if len(b) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func firstByte(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// CString is a NUL-terminated netlink string attribute as a Go string (cut
// at the first NUL): the one definition for nftwire and nft.
func CString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
