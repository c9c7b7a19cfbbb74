package nft

import (
	"encoding/binary"
	"time"

	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

// dump asks for the objects of message type typ (a GET) in table t,
// filtered by attrs, in namespace netns (nftwire.Dump).
func dump(netns int, typ uint16, t *nftwire.Table, attrs []netlink.Attribute) ([]netlink.Message, error) {
	return nftwire.Dump(netns, typ, byte(t.Family), attrs)
}

// object is a named object (NFT_OBJECT_*) of a table, as read back; for a
// ct helper, with what it assigns.
type object struct {
	_      [0]func() // not comparable: no generated equality function (binary size)
	name   string
	typ    uint32
	helper expr.CtHelper
}

// dumpObjects reads the named objects of table t. Only names, types and a
// ct helper's definition are decoded: google/nftables' GetNamedObjects
// decodes every kind of object (~9 KB of the release binary, issue 16).
func dumpObjects(netns int, t *nftwire.Table) ([]object, error) {
	msgs, err := dump(netns, unix.NFT_MSG_GETOBJ, t, []netlink.Attribute{
		{Type: unix.NFTA_OBJ_TABLE, Data: []byte(t.Name + "\x00")},
	})
	if err != nil {
		return nil, err
	}
	out := make([]object, len(msgs))
	for i, m := range msgs {
		if err := nftwire.EachAttr(m.Data[4:], out[i].attr); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// attr reads one attribute of a GETOBJ answer.
func (o *object) attr(typ uint16, v []byte) error {
	switch typ {
	case unix.NFTA_OBJ_NAME:
		o.name = nftwire.CString(v)
	case unix.NFTA_OBJ_TYPE:
		if len(v) == 4 {
			o.typ = binary.BigEndian.Uint32(v)
		}
	case unix.NFTA_OBJ_DATA:
		return nftwire.EachAttr(v, o.helperAttr)
	}
	return nil
}

// helperAttr reads one attribute of a ct helper object's data (all kinds of
// objects' data pass through it; only a ct helper's is used).
func (o *object) helperAttr(typ uint16, v []byte) error {
	switch {
	case typ == unix.NFTA_CT_HELPER_NAME:
		o.helper.Name = nftwire.CString(v)
	case typ == unix.NFTA_CT_HELPER_L3PROTO && len(v) == 2:
		o.helper.L3Proto = binary.BigEndian.Uint16(v)
	case typ == unix.NFTA_CT_HELPER_L4PROTO && len(v) == 1:
		o.helper.L4Proto = v[0]
	}
	return nil
}

// ReadSetElements reads the elements of the set name in table t of
// namespace netns (0: the calling thread's), with what vpnpass reads back:
// each element's key, its expiry and its counter. google/nftables'
// GetSetElements decodes every element attribute through its generic
// expression parser (~7 KB of the release binary, issue 16). The kernel
// answers ENOENT for a table or set that is not there.
func ReadSetElements(netns int, t *nftwire.Table, name string) ([]nftwire.SetElement, error) {
	conn, err := nftwire.Dial(netns)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return ReadSetElementsOn(conn, t, name)
}

// ReadSetElementsOn is ReadSetElements on an open socket (nftwire.Dial), for
// a reader of several sets.
func ReadSetElementsOn(conn *netlink.Conn, t *nftwire.Table, name string) ([]nftwire.SetElement, error) {
	msgs, err := nftwire.DumpOn(conn, unix.NFT_MSG_GETSETELEM, byte(t.Family), []netlink.Attribute{
		{Type: unix.NFTA_SET_ELEM_LIST_TABLE, Data: []byte(t.Name + "\x00")},
		{Type: unix.NFTA_SET_ELEM_LIST_SET, Data: []byte(name + "\x00")},
	})
	if err != nil {
		return nil, err
	}
	var out []nftwire.SetElement
	for _, m := range msgs {
		if out, err = decodeElements(out, m.Data[4:]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodeElements appends the elements of one GETSETELEM answer (after its
// nfgenmsg) to out. Keys are copies: b may be reused.
func decodeElements(out []nftwire.SetElement, b []byte) ([]nftwire.SetElement, error) {
	err := nftwire.EachAttr(b, func(typ uint16, v []byte) error {
		if typ != unix.NFTA_SET_ELEM_LIST_ELEMENTS {
			return nil
		}
		return nftwire.EachAttr(v, func(_ uint16, v []byte) error {
			var e nftwire.SetElement
			err := nftwire.EachAttr(v, (*setElement)(&e).attr)
			out = append(out, e)
			return err
		})
	})
	return out, err
}

// setElement decodes the attributes of one set element.
type setElement nftwire.SetElement

func (e *setElement) attr(typ uint16, v []byte) error {
	switch typ {
	case unix.NFTA_SET_ELEM_KEY:
		return nftwire.EachAttr(v, func(typ uint16, v []byte) error {
			if typ == unix.NFTA_DATA_VALUE {
				e.Key = append([]byte(nil), v...)
			}
			return nil
		})
	case unix.NFTA_SET_ELEM_EXPIRATION:
		if len(v) == 8 {
			e.Expires = time.Duration(binary.BigEndian.Uint64(v)) * time.Millisecond
		}
	case unix.NFTA_SET_ELEM_EXPR:
		return e.counter(v)
	}
	return nil
}

// counter reads a `counter` expression attached to the element.
func (e *setElement) counter(b []byte) error {
	var name string
	var c expr.Counter
	err := nftwire.EachAttr(b, func(typ uint16, v []byte) error {
		switch typ {
		case unix.NFTA_EXPR_NAME:
			name = nftwire.CString(v)
		case unix.NFTA_EXPR_DATA:
			return nftwire.EachAttr(v, func(typ uint16, v []byte) error {
				switch {
				case typ == unix.NFTA_COUNTER_BYTES && len(v) == 8:
					c.Bytes = binary.BigEndian.Uint64(v)
				case typ == unix.NFTA_COUNTER_PACKETS && len(v) == 8:
					c.Packets = binary.BigEndian.Uint64(v)
				}
				return nil
			})
		}
		return nil
	})
	if name == "counter" {
		e.Counter = &c
	}
	return err
}

// SetNames lists the names of the sets of table t in namespace netns (0:
// the calling thread's). Only the names are decoded: google/nftables'
// GetSets decodes every set attribute (key types, concatenations,
// descriptions), ~9 KB of the release binary for a presence check.
func SetNames(netns int, t *nftwire.Table) (map[string]bool, error) {
	msgs, err := dump(netns, unix.NFT_MSG_GETSET, t, []netlink.Attribute{
		{Type: unix.NFTA_SET_TABLE, Data: []byte(t.Name + "\x00")},
	})
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, m := range msgs {
		err := nftwire.EachAttr(m.Data[4:], func(typ uint16, v []byte) error {
			if typ == unix.NFTA_SET_NAME {
				names[nftwire.CString(v)] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return names, nil
}
