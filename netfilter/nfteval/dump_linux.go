package nfteval

import (
	"bytes"
	"encoding/binary"
	"strconv"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

// Attribute numbers the pinned x/sys lacks (linux/netfilter/nf_tables.h).
const (
	attrSetElemEnd    = 10 // NFTA_SET_ELEM_KEY_END
	attrSetDescConcat = 2  // NFTA_SET_DESC_CONCAT
	attrSetFieldLen   = 1  // NFTA_SET_FIELD_LEN
)

// tableKey identifies a table across families.
type tableKey struct{ fam, name string }

// ruleOf is a decoded rule with the names that place it.
type ruleOf struct {
	_     noCompare
	table tableKey
	chain string
	rule  *Rule
}

func (w *wire) rules() ([]ruleOf, error) {
	var out []ruleOf
	var names interner
	err := w.request(unix.NFT_MSG_GETRULE, unix.AF_UNSPEC, nil, false, func(m netlink.Message) error {
		ro, err := decodeRule(m, &names)
		out = append(out, ro)
		return err
	})
	return out, err
}

// interner hands out one string per table or chain name instead of one per
// rule.
type interner struct{ last []string }

func (in *interner) get(b []byte) string {
	b = bytes.TrimRight(b, "\x00")
	for _, s := range in.last {
		if s == string(b) {
			return s
		}
	}
	s := string(b)
	if in.last = append(in.last, s); len(in.last) > 4 {
		in.last = in.last[1:]
	}
	return s
}

// decodeRule decodes a rule message with our own attribute walk: rules are
// most of a dump.
func decodeRule(m netlink.Message, names *interner) (ruleOf, error) {
	if len(m.Data) < 4 {
		return ruleOf{}, nftwire.ErrAttr
	}
	fam := m.Data[0]
	ro := ruleOf{rule: &Rule{}, table: tableKey{fam: familyName(fam)}}
	err := nftwire.EachAttr(m.Data[4:], func(typ uint16, v []byte) error {
		switch typ {
		case unix.NFTA_RULE_TABLE:
			ro.table.name = names.get(v)
		case unix.NFTA_RULE_CHAIN:
			ro.chain = names.get(v)
		case unix.NFTA_RULE_HANDLE:
			if len(v) == 8 {
				ro.rule.Handle = binary.BigEndian.Uint64(v)
			}
		case unix.NFTA_RULE_USERDATA:
			ro.rule.Comment = nftwire.RuleComment(v)
		case unix.NFTA_RULE_EXPRESSIONS:
			var err error
			if ro.rule.Exprs, ro.rule.Compat, err = nftwire.DecodeExprs(fam, v); err != nil {
				return netfilter.Wrap("rule "+strconv.FormatUint(ro.rule.Handle, 10)+" in "+ro.table.fam+" "+ro.table.name, err)
			}
		}
		return nil
	})
	return ro, err
}

// setOf is a decoded set with the table it belongs to.
type setOf struct {
	_     noCompare
	table tableKey
	fam   byte
	set   *Set
}

func (w *wire) sets() ([]setOf, error) {
	var out []setOf
	err := w.each(unix.NFT_MSG_GETSET, unix.AF_UNSPEC, nil, false, func(ad *netlink.AttributeDecoder, fam byte) error {
		so := setOf{table: tableKey{fam: familyName(fam)}, fam: fam, set: &Set{}}
		for ad.Next() {
			decodeSetAttr(ad, &so)
		}
		out = append(out, so)
		return nil
	})
	return out, err
}

func decodeSetAttr(ad *netlink.AttributeDecoder, so *setOf) {
	s := so.set
	switch ad.Type() {
	case unix.NFTA_SET_TABLE:
		so.table.name = ad.String()
	case unix.NFTA_SET_NAME:
		s.Name = ad.String()
	case unix.NFTA_SET_ID:
		s.ID = ad.Uint32()
	case unix.NFTA_SET_FLAGS:
		s.Flags = ad.Uint32()
	case unix.NFTA_SET_KEY_TYPE:
		s.KeyType = ad.Uint32()
	case unix.NFTA_SET_KEY_LEN:
		s.KeyLen = ad.Uint32()
	case unix.NFTA_SET_DATA_TYPE:
		s.DataType = ad.Uint32()
	case unix.NFTA_SET_DATA_LEN:
		s.DataLen = ad.Uint32()
	case unix.NFTA_SET_DESC:
		ad.Nested(func(nad *netlink.AttributeDecoder) error {
			for nad.Next() {
				if nad.Type() == attrSetDescConcat {
					nad.Nested(func(cad *netlink.AttributeDecoder) error {
						s.FieldLen = decodeFieldLens(cad)
						return nil
					})
				}
			}
			return nil
		})
	}
}

// decodeFieldLens reads NFTA_SET_DESC_CONCAT: one NFTA_LIST_ELEM per field,
// holding NFTA_SET_FIELD_LEN, the field's length in bytes.
func decodeFieldLens(ad *netlink.AttributeDecoder) []uint32 {
	var out []uint32
	for ad.Next() {
		if ad.Type() != unix.NFTA_LIST_ELEM {
			continue
		}
		ad.Nested(func(fad *netlink.AttributeDecoder) error {
			for fad.Next() {
				if fad.Type() == attrSetFieldLen {
					out = append(out, fad.Uint32())
				}
			}
			return nil
		})
	}
	return out
}

// elements dumps one set's elements.
func (w *wire) elements(fam byte, table, set string) ([]Element, error) {
	var out []Element
	attrs := []netlink.Attribute{
		{Type: unix.NFTA_SET_ELEM_LIST_TABLE, Data: []byte(table + "\x00")},
		{Type: unix.NFTA_SET_ELEM_LIST_SET, Data: []byte(set + "\x00")},
	}
	err := w.each(unix.NFT_MSG_GETSETELEM, fam, attrs, false, func(ad *netlink.AttributeDecoder, _ byte) error {
		for ad.Next() {
			if ad.Type() != unix.NFTA_SET_ELEM_LIST_ELEMENTS {
				continue
			}
			ad.Nested(func(lad *netlink.AttributeDecoder) error {
				for lad.Next() {
					if lad.Type() == unix.NFTA_LIST_ELEM {
						var e Element
						lad.Nested(e.decode)
						out = append(out, e)
					}
				}
				return nil
			})
		}
		return nil
	})
	return out, err
}

func (e *Element) decode(ad *netlink.AttributeDecoder) error {
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_SET_ELEM_KEY:
			ad.Nested(func(d *netlink.AttributeDecoder) error { e.Key, _ = dataValue(d); return nil })
		case attrSetElemEnd:
			ad.Nested(func(d *netlink.AttributeDecoder) error { e.KeyEnd, _ = dataValue(d); return nil })
		case unix.NFTA_SET_ELEM_DATA:
			ad.Nested(func(d *netlink.AttributeDecoder) error { e.Data, e.Verdict = dataValue(d); return nil })
		case unix.NFTA_SET_ELEM_FLAGS:
			e.IntervalEnd = ad.Uint32()&unix.NFT_SET_ELEM_INTERVAL_END != 0
		}
	}
	return nil
}

// dataValue decodes nft_data: a value or a verdict.
func dataValue(ad *netlink.AttributeDecoder) ([]byte, *expr.Verdict) {
	var val []byte
	var v *expr.Verdict
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_DATA_VALUE:
			val = ad.Bytes()
		case unix.NFTA_DATA_VERDICT:
			v = &expr.Verdict{}
			ad.Nested(func(vad *netlink.AttributeDecoder) error {
				for vad.Next() {
					switch vad.Type() {
					case unix.NFTA_VERDICT_CODE:
						v.Kind = expr.VerdictKind(int32(vad.Uint32()))
					case unix.NFTA_VERDICT_CHAIN:
						v.Chain = vad.String()
					}
				}
				return nil
			})
		}
	}
	return val, v
}

// helperOf is a ct helper object with its table.
type helperOf struct {
	_      noCompare
	table  tableKey
	helper *Helper
}

// helpers dumps the named ct helper objects of every table (the kernel
// filters by type, so no other object type needs decoding).
func (w *wire) helpers() ([]helperOf, error) {
	var out []helperOf
	attrs := []netlink.Attribute{{Type: unix.NFTA_OBJ_TYPE, Data: binaryutil.BigEndian.PutUint32(objCtHelper)}}
	err := w.each(unix.NFT_MSG_GETOBJ, unix.AF_UNSPEC, attrs, false, func(ad *netlink.AttributeDecoder, fam byte) error {
		ho := helperOf{table: tableKey{fam: familyName(fam)}, helper: &Helper{}}
		typ := uint32(0)
		var ct expr.CtHelper
		for ad.Next() {
			switch ad.Type() {
			case unix.NFTA_OBJ_TABLE:
				ho.table.name = ad.String()
			case unix.NFTA_OBJ_NAME:
				ho.helper.Name = ad.String()
			case unix.NFTA_OBJ_TYPE:
				typ = ad.Uint32()
			case unix.NFTA_OBJ_DATA:
				if err := expr.Unmarshal(fam, ad.Bytes(), &ct); err != nil {
					return netfilter.Wrap("ct helper "+ho.helper.Name, err)
				}
			}
		}
		if typ == objCtHelper {
			ho.helper.Type, ho.helper.L3Proto, ho.helper.L4Proto = ct.Name, ct.L3Proto, ct.L4Proto
			out = append(out, ho)
		}
		return nil
	})
	return out, err
}

// flowtableOf is a flowtable with its table.
type flowtableOf struct {
	_     noCompare
	table tableKey
	ft    *Flowtable
}

func (w *wire) flowtables() ([]flowtableOf, error) {
	var out []flowtableOf
	err := w.each(msgGetFlowtable, unix.AF_UNSPEC, nil, false, func(ad *netlink.AttributeDecoder, fam byte) error {
		fo := flowtableOf{table: tableKey{fam: familyName(fam)}, ft: &Flowtable{}}
		for ad.Next() {
			switch ad.Type() {
			case ftTable:
				fo.table.name = ad.String()
			case ftName:
				fo.ft.Name = ad.String()
			case ftFlags:
				fo.ft.Flags = ad.Uint32()
			case ftHook:
				ad.Nested(fo.ft.decodeHook)
			}
		}
		out = append(out, fo)
		return nil
	})
	return out, err
}

func (f *Flowtable) decodeHook(ad *netlink.AttributeDecoder) error {
	for ad.Next() {
		switch ad.Type() {
		case ftHookPriority:
			f.Priority = int32(ad.Uint32())
		case ftHookDevs:
			ad.Nested(func(dad *netlink.AttributeDecoder) error {
				for dad.Next() {
					f.Devices = append(f.Devices, dad.String())
				}
				return nil
			})
		}
	}
	return nil
}

// The flowtable message and attributes of nf_tables.h (NFT_MSG_GETFLOWTABLE,
// NFTA_FLOWTABLE_*, NFTA_FLOWTABLE_HOOK_*) that x/sys/unix does
// not define.
const (
	msgGetFlowtable = 0x17

	ftTable = 1
	ftName  = 2
	ftHook  = 3
	ftFlags = 7

	ftHookPriority = 2 // in ftHook
	ftHookDevs     = 3 // in ftHook
)
