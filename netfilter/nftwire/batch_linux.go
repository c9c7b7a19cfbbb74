package nftwire

import (
	"encoding/binary"
	"time"

	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Batch collects the messages of one nftables transaction: the tables,
// chains, rules, sets and ct helper objects vpnpass writes, encoded as
// google/nftables v0.3.0 encodes them (TestBatchMatchesLibrary compares
// every message), but only for what vpnpass writes: the library's Conn
// keeps every writer and every expression's marshal in the binary
// (issue 16). Send delivers it as one NFNL batch, which the kernel applies
// all or nothing. The zero value is empty and ready.
type Batch struct {
	msgs  []netlink.Message
	setID uint32 // the last set ID handed out in this batch
	err   error  // the first encoding error; Send returns it
}

// Message flags of the library's writers.
const (
	flagsDel    = netlink.Request | netlink.Acknowledge
	flagsNew    = flagsDel | netlink.Create
	flagsInsert = flagsNew | unix.NLM_F_ECHO
	flagsAppend = flagsInsert | unix.NLM_F_APPEND
)

// Len is the number of messages queued.
func (b *Batch) Len() int { return len(b.msgs) }

// Err is the first expression that could not be encoded (Send would send
// nothing).
func (b *Batch) Err() error { return b.err }

// add queues one message of type typ: e is its nfgenmsg and attributes.
func (b *Batch) add(typ uint16, flags netlink.HeaderFlags, e *enc) {
	b.msgs = append(b.msgs, netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | typ), Flags: flags},
		Data:   e.b,
	})
}

// msg starts a message for family fam: its nfgenmsg header.
func msg(fam byte) *enc { return &enc{b: []byte{fam, unix.NFNETLINK_V0, 0, 0}} }

// names starts a message for family fam with a table and an object name
// (the attribute types differ by object; both are NUL-terminated).
func names(fam byte, tableAttr uint16, table string, nameAttr uint16, name string) *enc {
	e := msg(fam)
	e.str(tableAttr, table)
	e.str(nameAttr, name)
	return e
}

// AddTable queues `add table` (no error if it exists).
func (b *Batch) AddTable(fam byte, name string) { b.table(unix.NFT_MSG_NEWTABLE, flagsNew, fam, name) }

// DelTable queues `delete table`: the table and everything in it.
func (b *Batch) DelTable(fam byte, name string) { b.table(unix.NFT_MSG_DELTABLE, flagsDel, fam, name) }

func (b *Batch) table(typ uint16, flags netlink.HeaderFlags, fam byte, name string) {
	e := msg(fam)
	e.str(unix.NFTA_TABLE_NAME, name)
	e.u32(unix.NFTA_TABLE_FLAGS, 0)
	b.add(typ, flags, e)
}

// Hook makes a chain a base chain: `type filter hook <Num> priority
// <Priority>; policy accept;` (the only base chains vpnpass creates).
type Hook struct {
	Num      uint32 // NF_INET_*
	Priority int32
}

// AddChain queues a chain of table; hook nil makes a regular chain.
func (b *Batch) AddChain(fam byte, table, name string, hook *Hook) {
	e := names(fam, unix.NFTA_CHAIN_TABLE, table, unix.NFTA_CHAIN_NAME, name)
	if hook != nil {
		at := e.begin(unix.NLA_F_NESTED | unix.NFTA_CHAIN_HOOK)
		e.u32(unix.NFTA_HOOK_HOOKNUM, hook.Num)
		e.u32(unix.NFTA_HOOK_PRIORITY, uint32(hook.Priority))
		e.end(at)
		e.u32(unix.NFTA_CHAIN_POLICY, 1) // NF_ACCEPT
		e.str(unix.NFTA_CHAIN_TYPE, "filter")
	}
	b.add(unix.NFT_MSG_NEWCHAIN, flagsNew, e)
}

// DelChain queues the deletion of an empty chain (see FlushChain).
func (b *Batch) DelChain(fam byte, table, name string) {
	b.add(unix.NFT_MSG_DELCHAIN, flagsDel, names(fam, unix.NFTA_CHAIN_TABLE, table, unix.NFTA_CHAIN_NAME, name))
}

// FlushChain queues the deletion of every rule of a chain.
func (b *Batch) FlushChain(fam byte, table, chain string) {
	b.add(unix.NFT_MSG_DELRULE, flagsDel, names(fam, unix.NFTA_RULE_TABLE, table, unix.NFTA_RULE_CHAIN, chain))
}

// AddRule queues a rule at the end of chain, or at its head when insert is
// set. userData nil sends none (a comment is a userdata TLV).
func (b *Batch) AddRule(fam byte, table, chain string, exprs []expr.Any, userData []byte, insert bool) {
	e := names(fam, unix.NFTA_RULE_TABLE, table, unix.NFTA_RULE_CHAIN, chain)
	at := e.begin(unix.NLA_F_NESTED | unix.NFTA_RULE_EXPRESSIONS)
	for _, x := range exprs {
		if err := e.expr(x); err != nil && b.err == nil {
			b.err = err
		}
	}
	e.end(at)
	if userData != nil {
		e.bytes(unix.NFTA_RULE_USERDATA, userData)
	}
	flags := flagsAppend
	if insert {
		flags = flagsInsert
	}
	b.add(unix.NFT_MSG_NEWRULE, flags, e)
}

// DelRule queues the deletion of the rule with handle h (the kernel's
// handles are never 0).
func (b *Batch) DelRule(fam byte, table, chain string, h uint64) {
	e := names(fam, unix.NFTA_RULE_TABLE, table, unix.NFTA_RULE_CHAIN, chain)
	e.u64(unix.NFTA_RULE_HANDLE, h)
	b.add(unix.NFT_MSG_DELRULE, flagsDel, e)
}

// Set describes a set vpnpass creates.
type Set struct {
	// Name "" makes an anonymous constant set: the kernel names it, rules
	// of the same batch find it by the ID AddSet returns.
	Name    string
	KeyType uint32 // nft datatype; a concatenation's is Concat's
	KeyLen  uint32
	// Fields are the lengths of a concatenated key's fields (nil: no
	// concatenation).
	Fields []uint32
	// HostOrder says the key is in host byte order (interface names), so
	// that nft shows the elements right.
	HostOrder bool
	// Timeout > 0: elements expire that long after their last update.
	Timeout time.Duration
	Dynamic bool   // rules add and update elements
	Counter bool   // every element counts packets and bytes
	Size    uint32 // most elements; 0: no limit
}

// nft's datatypes of set keys (nftables' src/datatype.h), and the bits
// each field takes in a concatenation's type.
const (
	TypeIPAddr      = 7
	TypeIP6Addr     = 8
	TypeInetProto   = 12
	TypeInetService = 13
	TypeIFName      = 41
	concatTypeBits  = 6
)

// Concat returns the key type and length of a concatenation of fields of
// the given types and lengths (each field padded to 4 bytes).
func Concat(types, lens []uint32) (typ, keyLen uint32) {
	for i, t := range types {
		typ = typ<<concatTypeBits | t
		keyLen += (lens[i] + 3) &^ 3
	}
	return typ, keyLen
}

// Library flags not named by x/sys/unix.
const (
	setFlagConcat         = 0x80
	attrSetDescConcat     = 2
	attrSetElemExprs      = 0x11
	udataSetKeyByteOrder  = 0
	udataByteOrderBig     = 2
	udataByteOrderHost    = 1
	anonymousSetNameTempl = "__set%d"
)

// AddSet queues set s of table with the given keys as its first elements.
// It returns the set's name and its ID in this batch, for lookups.
func (b *Batch) AddSet(fam byte, table string, s *Set, keys [][]byte) (string, uint32) {
	b.setID++
	id, name := b.setID, s.Name
	flags := uint32(0)
	if name == "" {
		name, flags = anonymousSetNameTempl, unix.NFT_SET_ANONYMOUS|unix.NFT_SET_CONSTANT
	}
	if s.Timeout > 0 {
		flags |= unix.NFT_SET_TIMEOUT
	}
	if s.Dynamic {
		flags |= unix.NFT_SET_EVAL
	}
	if s.Fields != nil {
		flags |= setFlagConcat
	}
	e := names(fam, unix.NFTA_SET_TABLE, table, unix.NFTA_SET_NAME, name)
	e.u32(unix.NFTA_SET_FLAGS, flags)
	e.u32(unix.NFTA_SET_KEY_TYPE, s.KeyType)
	e.u32(unix.NFTA_SET_KEY_LEN, s.KeyLen)
	e.u32(unix.NFTA_SET_ID, id)
	if s.Timeout > 0 {
		e.u64(unix.NFTA_SET_TIMEOUT, uint64(s.Timeout.Milliseconds()))
	}
	if s.Name == "" { // constant: nft says how many elements it holds
		e.value(unix.NFTA_SET_DESC, binary.BigEndian.AppendUint32(nil, uint32(len(keys))))
	}
	b.setDesc(e, s)
	order := uint32(0)
	switch {
	case s.Name == "":
		order = udataByteOrderBig
	case s.HostOrder:
		order = udataByteOrderHost
	}
	if order != 0 {
		e.bytes(unix.NFTA_SET_USERDATA, []byte{udataSetKeyByteOrder, 4, byte(order), 0, 0, 0})
	}
	if s.Counter {
		at := e.begin(unix.NLA_F_NESTED | attrSetElemExprs)
		e.str(unix.NFTA_LIST_ELEM, "counter")
		e.bytes(unix.NFTA_SET_ELEM_PAD|unix.NFTA_SET_ELEM_DATA, nil)
		e.end(at)
	}
	b.add(unix.NFT_MSG_NEWSET, flagsNew, e)
	if len(keys) > 0 {
		b.elements(fam, table, name, id, keys)
	}
	return name, id
}

// setDesc appends the set's size and concatenation description.
func (b *Batch) setDesc(e *enc, s *Set) {
	if s.Size == 0 && s.Fields == nil {
		return
	}
	desc := e.begin(unix.NLA_F_NESTED | unix.NFTA_SET_DESC)
	if s.Size > 0 {
		e.u32(unix.NFTA_SET_DESC_SIZE, s.Size)
	}
	if s.Fields != nil {
		at := e.begin(unix.NLA_F_NESTED | attrSetDescConcat)
		for _, n := range s.Fields {
			f := e.begin(unix.NFTA_SET_DESC_SIZE)
			e.u32(unix.NFTA_DATA_VALUE, n)
			e.end(f)
		}
		e.end(at)
	}
	e.end(desc)
}

// SetAddElements queues keys for the named set of table.
func (b *Batch) SetAddElements(fam byte, table, set string, keys [][]byte) {
	b.elements(fam, table, set, 0, keys)
}

func (b *Batch) elements(fam byte, table, set string, id uint32, keys [][]byte) {
	e := msg(fam)
	e.str(unix.NFTA_SET_NAME, set)
	// The library sends the set ID with the type of NFTA_LOOKUP_SET_ID (4,
	// NFTA_SET_ELEM_LIST_TOKEN here); kept byte for byte.
	e.u32(unix.NFTA_LOOKUP_SET_ID, id)
	e.str(unix.NFTA_SET_TABLE, table)
	list := e.begin(unix.NLA_F_NESTED | unix.NFTA_SET_ELEM_LIST_ELEMENTS)
	for i, k := range keys {
		el := e.begin(unix.NLA_F_NESTED | uint16(i+1))
		e.value(unix.NFTA_SET_ELEM_KEY, k)
		e.end(el)
	}
	e.end(list)
	b.add(unix.NFT_MSG_NEWSETELEM, flagsNew, e)
}

// FlushSet queues the removal of every element of a set.
func (b *Batch) FlushSet(fam byte, table, set string) {
	b.add(unix.NFT_MSG_DELSETELEM, flagsDel, names(fam, unix.NFTA_SET_TABLE, table, unix.NFTA_SET_NAME, set))
}

// AddCtHelper queues a ct helper object: conntrack helper helper for IP
// protocol l4 of layer-3 protocol l3.
func (b *Batch) AddCtHelper(fam byte, table, name, helper string, l3 uint16, l4 uint8) {
	e := b.obj(fam, table, name, unix.NFT_OBJECT_CT_HELPER)
	at := e.begin(unix.NLA_F_NESTED | unix.NFTA_OBJ_DATA)
	e.bytes(unix.NFTA_CT_HELPER_NAME, []byte(helper)) // no NUL, as the library sends it
	if l3 != 0 {
		e.bytes(unix.NFTA_CT_HELPER_L3PROTO, []byte{byte(l3 >> 8), byte(l3)})
	}
	if l4 != 0 {
		e.bytes(unix.NFTA_CT_HELPER_L4PROTO, []byte{l4})
	}
	e.end(at)
	b.add(unix.NFT_MSG_NEWOBJ, flagsNew, e)
}

// DelObj queues the deletion of the named object of type typ
// (NFT_OBJECT_*).
func (b *Batch) DelObj(fam byte, table, name string, typ uint32) {
	e := b.obj(fam, table, name, typ)
	e.bytes(unix.NLA_F_NESTED|unix.NFTA_OBJ_DATA, nil)
	b.add(unix.NFT_MSG_DELOBJ, flagsDel, e)
}

func (b *Batch) obj(fam byte, table, name string, typ uint32) *enc {
	e := names(fam, unix.NFTA_OBJ_TABLE, table, unix.NFTA_OBJ_NAME, name)
	e.u32(unix.NFTA_OBJ_TYPE, typ)
	return e
}
