package nfteval

import (
	"encoding/binary"
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// wire is our own nfnetlink socket in the Conn's namespace: rules, sets,
// elements, objects and flowtables are dumped for all families at once, and
// decoded without losing what the library would drop.
type wire struct{ c *netlink.Conn }

func openWire(netns int) (*wire, error) {
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: netns})
	if err != nil {
		return nil, err
	}
	return &wire{c}, nil
}

func (w *wire) close() { _ = w.c.Close() }

// request sends one nftables request (a dump unless single) and returns the
// replies, attributes after the nfgenmsg header.
func (w *wire) request(typ uint16, fam byte, attrs []netlink.Attribute, single bool) ([]netlink.Message, error) {
	data := []byte{fam, unix.NFNETLINK_V0, 0, 0}
	if len(attrs) > 0 {
		b, err := netlink.MarshalAttributes(attrs)
		if err != nil {
			return nil, err
		}
		data = append(data, b...)
	}
	flags := netlink.Request | netlink.Dump
	if single {
		flags = netlink.Request
	}
	return w.c.Execute(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | typ), Flags: flags},
		Data:   data,
	})
}

// decoder returns an attribute decoder over a reply's attributes, and the
// reply's family.
func decoder(m netlink.Message) (*netlink.AttributeDecoder, byte, error) {
	if len(m.Data) < 4 {
		return nil, 0, fmt.Errorf("short nfnetlink message (%d bytes)", len(m.Data))
	}
	ad, err := netlink.NewAttributeDecoder(m.Data[4:])
	if err != nil {
		return nil, 0, err
	}
	ad.ByteOrder = binary.BigEndian
	return ad, m.Data[0], nil
}

// generation returns the ruleset generation, which every committed
// transaction bumps: equal before and after a read means a consistent read.
func (w *wire) generation() (uint32, error) {
	msgs, err := w.request(unix.NFT_MSG_GETGEN, unix.AF_UNSPEC, nil, true)
	if err != nil {
		return 0, err
	}
	for _, m := range msgs {
		ad, _, err := decoder(m)
		if err != nil {
			return 0, err
		}
		for ad.Next() {
			if ad.Type() == unix.NFTA_GEN_ID {
				return ad.Uint32(), nil
			}
		}
	}
	return 0, fmt.Errorf("no generation in reply")
}

// tables dumps the tables of every family. (The library's table decoding
// reads NFTA_TABLE_FLAGS in host byte order, so dormant tables would not
// show on little-endian hosts.)
func (w *wire) tables() ([]*Table, error) {
	msgs, err := w.request(unix.NFT_MSG_GETTABLE, unix.AF_UNSPEC, nil, false)
	if err != nil {
		return nil, err
	}
	out := make([]*Table, 0, len(msgs))
	for _, m := range msgs {
		ad, fam, err := decoder(m)
		if err != nil {
			return nil, err
		}
		t := &Table{Family: familyName(fam)}
		for ad.Next() {
			switch ad.Type() {
			case unix.NFTA_TABLE_NAME:
				t.Name = ad.String()
			case unix.NFTA_TABLE_FLAGS:
				t.Flags = ad.Uint32()
			}
		}
		if err := ad.Err(); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// tableKey identifies a table across families.
type tableKey struct{ fam, name string }

// ruleOf is a decoded rule with the names that place it.
type ruleOf struct {
	table tableKey
	chain string
	rule  *Rule
}

func (w *wire) rules() ([]ruleOf, error) {
	msgs, err := w.request(unix.NFT_MSG_GETRULE, unix.AF_UNSPEC, nil, false)
	if err != nil {
		return nil, err
	}
	out := make([]ruleOf, 0, len(msgs))
	for _, m := range msgs {
		ro, err := decodeRule(m)
		if err != nil {
			return nil, err
		}
		out = append(out, ro)
	}
	return out, nil
}

func decodeRule(m netlink.Message) (ruleOf, error) {
	ad, fam, err := decoder(m)
	if err != nil {
		return ruleOf{}, err
	}
	ro := ruleOf{rule: &Rule{}}
	ro.table.fam = familyName(fam)
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_RULE_TABLE:
			ro.table.name = ad.String()
		case unix.NFTA_RULE_CHAIN:
			ro.chain = ad.String()
		case unix.NFTA_RULE_HANDLE:
			ro.rule.Handle = ad.Uint64()
		case unix.NFTA_RULE_USERDATA:
			ro.rule.Comment, _ = userdata.GetString(ad.Bytes(), userdata.TypeComment)
		case unix.NFTA_RULE_EXPRESSIONS:
			ro.rule.Exprs, ro.rule.Compat, err = decodeExprs(fam, ad.Bytes())
			if err != nil {
				return ro, fmt.Errorf("rule %d in %s %s: %w", ro.rule.Handle, ro.table.fam, ro.table.name, err)
			}
		}
	}
	return ro, ad.Err()
}

// setOf is a decoded set with the table it belongs to.
type setOf struct {
	table tableKey
	fam   byte
	set   *Set
}

func (w *wire) sets() ([]setOf, error) {
	msgs, err := w.request(unix.NFT_MSG_GETSET, unix.AF_UNSPEC, nil, false)
	if err != nil {
		return nil, err
	}
	out := make([]setOf, 0, len(msgs))
	for _, m := range msgs {
		ad, fam, err := decoder(m)
		if err != nil {
			return nil, err
		}
		so := setOf{table: tableKey{fam: familyName(fam)}, fam: fam, set: &Set{}}
		for ad.Next() {
			decodeSetAttr(ad, &so)
		}
		if err := ad.Err(); err != nil {
			return nil, err
		}
		out = append(out, so)
	}
	return out, nil
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
	msgs, err := w.request(unix.NFT_MSG_GETSETELEM, fam, []netlink.Attribute{
		{Type: unix.NFTA_SET_ELEM_LIST_TABLE, Data: []byte(table + "\x00")},
		{Type: unix.NFTA_SET_ELEM_LIST_SET, Data: []byte(set + "\x00")},
	}, false)
	if err != nil {
		return nil, err
	}
	var out []Element
	for _, m := range msgs {
		ad, _, err := decoder(m)
		if err != nil {
			return nil, err
		}
		for ad.Next() {
			if ad.Type() == unix.NFTA_SET_ELEM_LIST_ELEMENTS {
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
		}
		if err := ad.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
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
	table  tableKey
	helper *Helper
}

// helpers dumps the named ct helper objects of every table (the kernel
// filters by type, so no other object type needs decoding).
func (w *wire) helpers() ([]helperOf, error) {
	msgs, err := w.request(unix.NFT_MSG_GETOBJ, unix.AF_UNSPEC, []netlink.Attribute{
		{Type: unix.NFTA_OBJ_TYPE, Data: binaryutil.BigEndian.PutUint32(objCtHelper)},
	}, false)
	if err != nil {
		return nil, err
	}
	var out []helperOf
	for _, m := range msgs {
		ad, fam, err := decoder(m)
		if err != nil {
			return nil, err
		}
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
					return nil, fmt.Errorf("ct helper %s: %w", ho.helper.Name, err)
				}
			}
		}
		if typ != objCtHelper {
			continue
		}
		ho.helper.Type, ho.helper.L3Proto, ho.helper.L4Proto = ct.Name, ct.L3Proto, ct.L4Proto
		out = append(out, ho)
	}
	return out, nil
}

// flowtableOf is a flowtable with its table.
type flowtableOf struct {
	table tableKey
	ft    *Flowtable
}

func (w *wire) flowtables() ([]flowtableOf, error) {
	msgs, err := w.request(nftables.NFT_MSG_GETFLOWTABLE, unix.AF_UNSPEC, nil, false)
	if err != nil {
		return nil, err
	}
	var out []flowtableOf
	for _, m := range msgs {
		ad, fam, err := decoder(m)
		if err != nil {
			return nil, err
		}
		fo := flowtableOf{table: tableKey{fam: familyName(fam)}, ft: &Flowtable{}}
		for ad.Next() {
			switch ad.Type() {
			case nftables.NFTA_FLOWTABLE_TABLE:
				fo.table.name = ad.String()
			case nftables.NFTA_FLOWTABLE_NAME:
				fo.ft.Name = ad.String()
			case nftables.NFTA_FLOWTABLE_FLAGS:
				fo.ft.Flags = ad.Uint32()
			case nftables.NFTA_FLOWTABLE_HOOK:
				ad.Nested(fo.ft.decodeHook)
			}
		}
		out = append(out, fo)
	}
	return out, nil
}

func (f *Flowtable) decodeHook(ad *netlink.AttributeDecoder) error {
	for ad.Next() {
		switch ad.Type() {
		case nftables.NFTA_FLOWTABLE_PRIORITY:
			f.Priority = int32(ad.Uint32())
		case nftables.NFTA_FLOWTABLE_DEVS:
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

// links maps device names to indexes in the namespace (RTM_GETLINK dump).
func links(netns int) (map[string]uint32, error) {
	c, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: netns})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	msgs, err := c.Execute(netlink.Message{
		Header: netlink.Header{Type: unix.RTM_GETLINK, Flags: netlink.Request | netlink.Dump},
		Data:   make([]byte, unix.SizeofIfInfomsg),
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]uint32, len(msgs))
	for _, m := range msgs {
		if len(m.Data) < unix.SizeofIfInfomsg {
			continue
		}
		// ifinfomsg: family, pad, type (u16), index (int, host order), ...
		index := binaryutil.NativeEndian.Uint32(m.Data[4:8])
		ad, err := netlink.NewAttributeDecoder(m.Data[unix.SizeofIfInfomsg:])
		if err != nil {
			return nil, err
		}
		for ad.Next() {
			if ad.Type() == unix.IFLA_IFNAME {
				out[ad.String()] = index
			}
		}
	}
	return out, nil
}

// familyName spells an nfproto family as nft does.
func familyName(f byte) string {
	switch f {
	case unix.NFPROTO_INET:
		return "inet"
	case unix.NFPROTO_IPV4:
		return "ip"
	case unix.NFPROTO_IPV6:
		return "ip6"
	case unix.NFPROTO_ARP:
		return "arp"
	case unix.NFPROTO_BRIDGE:
		return "bridge"
	case unix.NFPROTO_NETDEV:
		return "netdev"
	}
	return fmt.Sprintf("family%d", f)
}
