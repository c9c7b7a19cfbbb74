package nftwire

import (
	"encoding/binary"
	"fmt"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// enc appends netlink attributes the way mdlayher/netlink's
// MarshalAttributes lays them out (length and type in host order, data
// padded to 4 bytes), without building []netlink.Attribute first: the
// library's writers marshal every level of nesting into a fresh slice,
// which is most of their code (issue 16).
type enc struct{ b []byte }

// begin opens an attribute whose data follows; end closes it.
func (e *enc) begin(typ uint16) int {
	at := len(e.b)
	e.b = binary.NativeEndian.AppendUint16(e.b, 0)
	e.b = binary.NativeEndian.AppendUint16(e.b, typ)
	return at
}

// end sets the length of the attribute begun at at and pads it.
func (e *enc) end(at int) {
	binary.NativeEndian.PutUint16(e.b[at:], uint16(len(e.b)-at))
	for len(e.b)%4 != 0 {
		e.b = append(e.b, 0)
	}
}

func (e *enc) bytes(typ uint16, v []byte) {
	at := e.begin(typ)
	e.b = append(e.b, v...)
	e.end(at)
}

// str is a NUL-terminated string attribute.
func (e *enc) str(typ uint16, s string) {
	at := e.begin(typ)
	e.b = append(append(e.b, s...), 0)
	e.end(at)
}

func (e *enc) u32(typ uint16, v uint32) {
	at := e.begin(typ)
	e.b = binary.BigEndian.AppendUint32(e.b, v)
	e.end(at)
}

func (e *enc) u64(typ uint16, v uint64) {
	at := e.begin(typ)
	e.b = binary.BigEndian.AppendUint64(e.b, v)
	e.end(at)
}

// value is a nested attribute holding one NFTA_DATA_VALUE.
func (e *enc) value(typ uint16, v []byte) {
	at := e.begin(unix.NLA_F_NESTED | typ)
	e.bytes(unix.NFTA_DATA_VALUE, v)
	e.end(at)
}

// reg is the source or the destination register attribute.
func (e *enc) reg(src bool, sreg, dreg uint16, r uint32) {
	if src {
		e.u32(sreg, r)
	} else {
		e.u32(dreg, r)
	}
}

// expr appends one expression as a rule's list element: its name and its
// data, exactly as the library's Marshal does.
func (e *enc) expr(x expr.Any) error {
	var d enc
	name, err := d.exprData(x)
	if err != nil {
		return err
	}
	el := e.begin(unix.NLA_F_NESTED | unix.NFTA_LIST_ELEM)
	e.str(unix.NFTA_EXPR_NAME, name)
	e.bytes(unix.NLA_F_NESTED|unix.NFTA_EXPR_DATA, d.b)
	e.end(el)
	return nil
}

// ExprData encodes the data of an expression (what the library's
// MarshalExprData returns) for the expressions vpnpass writes; any other
// is an error.
func ExprData(x expr.Any) ([]byte, error) {
	var e enc
	_, err := e.exprData(x)
	return e.b, err
}

// exprData appends the data of an expression vpnpass writes and returns
// the kernel's name of it.
func (e *enc) exprData(x expr.Any) (string, error) {
	switch x := x.(type) {
	case *expr.Meta:
		e.u32(unix.NFTA_META_KEY, uint32(x.Key))
		e.reg(x.SourceRegister, unix.NFTA_META_SREG, unix.NFTA_META_DREG, x.Register)
		return "meta", nil
	case *expr.Cmp:
		e.u32(unix.NFTA_CMP_SREG, x.Register)
		e.u32(unix.NFTA_CMP_OP, uint32(x.Op))
		e.value(unix.NFTA_CMP_DATA, x.Data)
		return "cmp", nil
	case *expr.Lookup:
		e.lookup(x)
		return "lookup", nil
	case *expr.Verdict:
		e.u32(unix.NFTA_IMMEDIATE_DREG, unix.NFT_REG_VERDICT)
		imm := e.begin(unix.NLA_F_NESTED | unix.NFTA_IMMEDIATE_DATA)
		v := e.begin(unix.NLA_F_NESTED | unix.NFTA_DATA_VERDICT)
		e.u32(unix.NFTA_VERDICT_CODE, uint32(x.Kind))
		if x.Chain != "" {
			e.str(unix.NFTA_VERDICT_CHAIN, x.Chain)
		}
		e.end(v)
		e.end(imm)
		return "immediate", nil
	case *expr.Immediate:
		e.u32(unix.NFTA_IMMEDIATE_DREG, x.Register)
		e.value(unix.NFTA_IMMEDIATE_DATA, x.Data)
		return "immediate", nil
	case *expr.Payload:
		e.payload(x)
		return "payload", nil
	case *expr.Ct:
		e.u32(unix.NFTA_CT_KEY, uint32(x.Key))
		e.reg(x.SourceRegister, unix.NFTA_CT_SREG, unix.NFTA_CT_DREG, x.Register)
		switch x.Key {
		case expr.CtKeySRC, expr.CtKeyDST, expr.CtKeyPROTOSRC, expr.CtKeyPROTODST:
			e.u32(unix.NFTA_CT_DIRECTION, x.Direction) // as the library sends it
		}
		return "ct", nil
	case *expr.Bitwise:
		e.u32(unix.NFTA_BITWISE_SREG, x.SourceRegister)
		e.u32(unix.NFTA_BITWISE_DREG, x.DestRegister)
		e.u32(unix.NFTA_BITWISE_LEN, x.Len)
		e.value(unix.NFTA_BITWISE_MASK, x.Mask)
		e.value(unix.NFTA_BITWISE_XOR, x.Xor)
		return "bitwise", nil
	case *expr.Dynset:
		return "dynset", e.dynset(x)
	case *expr.Objref:
		e.u32(unix.NFTA_OBJREF_IMM_TYPE, uint32(x.Type))
		e.bytes(unix.NFTA_OBJREF_IMM_NAME, []byte(x.Name)) // no NUL, as the library sends it
		return "objref", nil
	}
	return "", fmt.Errorf("encode expression %T: not one vpnpass writes", x)
}

func (e *enc) lookup(x *expr.Lookup) {
	if x.SourceRegister != 0 {
		e.u32(unix.NFTA_LOOKUP_SREG, x.SourceRegister)
	}
	if x.IsDestRegSet {
		e.u32(unix.NFTA_LOOKUP_DREG, x.DestRegister)
	}
	if x.Invert {
		e.u32(unix.NFTA_LOOKUP_FLAGS, unix.NFT_LOOKUP_F_INV)
	}
	e.str(unix.NFTA_LOOKUP_SET, x.SetName)
	e.u32(unix.NFTA_LOOKUP_SET_ID, x.SetID)
}

func (e *enc) payload(x *expr.Payload) {
	if x.OperationType == expr.PayloadWrite {
		e.u32(unix.NFTA_PAYLOAD_SREG, x.SourceRegister)
	} else {
		e.u32(unix.NFTA_PAYLOAD_DREG, x.DestRegister)
	}
	e.u32(unix.NFTA_PAYLOAD_BASE, uint32(x.Base))
	e.u32(unix.NFTA_PAYLOAD_OFFSET, x.Offset)
	e.u32(unix.NFTA_PAYLOAD_LEN, x.Len)
	if x.CsumType > 0 {
		e.u32(unix.NFTA_PAYLOAD_CSUM_TYPE, uint32(x.CsumType))
		e.u32(unix.NFTA_PAYLOAD_CSUM_OFFSET, x.CsumOffset)
		if x.CsumFlags > 0 {
			e.u32(unix.NFTA_PAYLOAD_CSUM_FLAGS, x.CsumFlags)
		}
	}
}

// dynset encodes a set update without expressions of its own (the only
// kind vpnpass writes).
func (e *enc) dynset(x *expr.Dynset) error {
	if len(x.Exprs) > 0 {
		return fmt.Errorf("encode dynset on %s: expressions are not written by vpnpass", x.SetName)
	}
	e.u32(unix.NFTA_DYNSET_SREG_KEY, x.SrcRegKey)
	if x.SrcRegData != 0 {
		e.u32(unix.NFTA_DYNSET_SREG_DATA, x.SrcRegData)
	}
	e.u32(unix.NFTA_DYNSET_OP, x.Operation)
	if x.Timeout != 0 {
		e.u64(unix.NFTA_DYNSET_TIMEOUT, uint64(x.Timeout.Milliseconds()))
	}
	e.str(unix.NFTA_DYNSET_SET_NAME, x.SetName)
	e.u32(unix.NFTA_DYNSET_SET_ID, x.SetID)
	var flags uint32
	if x.Invert {
		flags = unix.NFT_DYNSET_F_INV
	}
	e.u32(unix.NFTA_DYNSET_FLAGS, flags)
	return nil
}
