package nftwire

import (
	"encoding/binary"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Dump asks for the objects of message type typ (a GET) of family fam
// (unix.NFPROTO_UNSPEC: every family), filtered by attrs, on a socket of its
// own in namespace netns (0: the calling thread's), and returns the answers
// that carry a body. Errors are netlink's (errors.Is finds the errno).
func Dump(netns int, typ uint16, fam byte, attrs []netlink.Attribute) ([]netlink.Message, error) {
	conn, err := Dial(netns)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return DumpOn(conn, typ, fam, attrs)
}

// DumpOn is Dump on an open socket (Dial): a reader of several dumps at a
// time (the agent's observer read, every judging tick) opens one socket,
// not one per dump.
func DumpOn(conn *netlink.Conn, typ uint16, fam byte, attrs []netlink.Attribute) ([]netlink.Message, error) {
	b, err := netlink.MarshalAttributes(attrs)
	if err != nil {
		return nil, err
	}
	msgs, err := conn.Execute(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | typ), Flags: netlink.Request | netlink.Dump},
		Data:   append([]byte{fam, unix.NFNETLINK_V0, 0, 0}, b...),
	})
	out := msgs[:0]
	for _, m := range msgs {
		if len(m.Data) >= 4 {
			out = append(out, m)
		}
	}
	return out, err
}

// Tables lists the tables of family fam (unix.NFPROTO_UNSPEC: all) in
// namespace netns: name, family, flags and use count, as google/nftables'
// ListTablesOfFamily did (but for flags and use, which it read in host
// byte order: here in the kernel's, big-endian).
func Tables(netns int, fam byte) ([]*Table, error) {
	msgs, err := Dump(netns, unix.NFT_MSG_GETTABLE, fam, nil)
	if err != nil {
		return nil, err
	}
	out := make([]*Table, 0, len(msgs))
	for _, m := range msgs {
		t := &Table{Family: Family(m.Data[0])}
		err := EachAttr(m.Data[4:], func(typ uint16, v []byte) error {
			switch typ {
			case unix.NFTA_TABLE_NAME:
				t.Name = CString(v)
			case unix.NFTA_TABLE_USE:
				t.Use = u32(v)
			case unix.NFTA_TABLE_FLAGS:
				t.Flags = u32(v)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Chains lists the chains of family fam (unix.NFPROTO_UNSPEC: all) in
// namespace netns, as google/nftables' ListChainsOfTableFamily did: name,
// table (name and family), type, and for a base chain its hook, priority
// and policy.
func Chains(netns int, fam byte) ([]*Chain, error) {
	msgs, err := Dump(netns, unix.NFT_MSG_GETCHAIN, fam, nil)
	if err != nil {
		return nil, err
	}
	out := make([]*Chain, 0, len(msgs))
	for _, m := range msgs {
		c := &Chain{}
		if err := EachAttr(m.Data[4:], (*chain)(c).attr(m.Data[0])); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

type chain Chain

func (c *chain) attr(fam byte) func(uint16, []byte) error {
	return func(typ uint16, v []byte) error {
		switch typ {
		case unix.NFTA_CHAIN_NAME:
			c.Name = CString(v)
		case unix.NFTA_CHAIN_TABLE:
			c.Table = &Table{Name: CString(v), Family: Family(fam)}
		case unix.NFTA_CHAIN_TYPE:
			c.Type = ChainType(CString(v))
		case unix.NFTA_CHAIN_POLICY:
			p := Policy(u32(v))
			c.Policy = &p
		case unix.NFTA_CHAIN_HOOK:
			var hook HookNum
			var prio Priority
			c.Hooknum, c.Priority = &hook, &prio
			return EachAttr(v, func(typ uint16, v []byte) error {
				switch typ {
				case unix.NFTA_HOOK_HOOKNUM:
					hook = HookNum(u32(v))
				case unix.NFTA_HOOK_PRIORITY:
					prio = Priority(u32(v))
				}
				return nil
			})
		}
		return nil
	}
}

// Rules lists the rules of a chain of table t in namespace netns, in chain
// order. Every expression is decoded on its own (DecodeExprs); one we
// cannot decode (an *Opaque) is left out and its rule reported in
// incomplete: it can then never compare equal to a rule of ours.
func Rules(netns int, t *Table, chain string) ([]*Rule, map[*Rule]bool, error) {
	msgs, err := Dump(netns, unix.NFT_MSG_GETRULE, byte(t.Family), []netlink.Attribute{
		{Type: unix.NFTA_RULE_TABLE, Data: []byte(t.Name + "\x00")},
		{Type: unix.NFTA_RULE_CHAIN, Data: []byte(chain + "\x00")},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("dump rules: %w", err)
	}
	rules := make([]*Rule, 0, len(msgs))
	incomplete := map[*Rule]bool{}
	for _, m := range msgs {
		r, complete, err := DecodeRule(byte(t.Family), m.Data[4:])
		if err != nil {
			return nil, nil, err
		}
		r.Table, r.Chain = t, &Chain{Name: chain, Table: t}
		if !complete {
			incomplete[r] = true
		}
		rules = append(rules, r)
	}
	return rules, incomplete, nil
}

// DecodeRule decodes a rule (after its nfgenmsg): handle, position, user
// data and expressions. complete is false when an expression could not be
// decoded (an *Opaque): it is left out.
func DecodeRule(fam byte, b []byte) (r *Rule, complete bool, err error) {
	r, complete = &Rule{}, true
	err = EachAttr(b, func(typ uint16, v []byte) error {
		switch typ {
		case unix.NFTA_RULE_HANDLE:
			if len(v) == 8 {
				r.Handle = binary.BigEndian.Uint64(v)
			}
		case unix.NFTA_RULE_POSITION:
			if len(v) == 8 {
				r.Position = binary.BigEndian.Uint64(v)
			}
		case unix.NFTA_RULE_USERDATA:
			r.UserData = append([]byte(nil), v...)
		case unix.NFTA_RULE_EXPRESSIONS:
			exprs, _, err := DecodeExprs(fam, v)
			for _, e := range exprs {
				if _, opaque := e.(*Opaque); opaque {
					complete = false
					continue
				}
				r.Exprs = append(r.Exprs, e)
			}
			return err
		}
		return nil
	})
	return r, complete, err
}

// str is netlink's string (google/nftables' reading): every trailing NUL
// cut.
// udataComment is NFTNL_UDATA_RULE_COMMENT, the user data type nft stores a
// rule's comment under.
const udataComment = 0

// RuleComment reads the comment TLV of a rule's user data (NUL cut). It
// parses defensively: foreign rules may carry anything.
func RuleComment(ud []byte) string {
	for len(ud) >= 2 {
		typ, n := ud[0], int(ud[1])
		if len(ud) < 2+n {
			return ""
		}
		if typ == udataComment {
			return CString(ud[2 : 2+n])
		}
		ud = ud[2+n:]
	}
	return ""
}
