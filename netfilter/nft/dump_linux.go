package nft

import (
	"encoding/binary"
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// dumpRules lists the rules of a chain with a decoder of our own. It is the
// fallback when google/nftables' GetRules fails on a foreign rule: v0.3.0
// reads NFTA_CT_DIRECTION as a u32 while the kernel sends a u8, so any rule
// with `ct original ...` / `ct reply ...` makes the whole dump fail. Here
// every expression is decoded on its own; one we cannot decode is left out
// and its rule reported in incomplete (it can then never pass for ours).
func dumpRules(netns int, t *nftables.Table, chain string) ([]*nftables.Rule, map[*nftables.Rule]bool, error) {
	conn, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: netns})
	if err != nil {
		return nil, nil, fmt.Errorf("dial netfilter netlink: %w", err)
	}
	defer conn.Close()
	attrs, err := netlink.MarshalAttributes([]netlink.Attribute{
		{Type: unix.NFTA_RULE_TABLE, Data: []byte(t.Name + "\x00")},
		{Type: unix.NFTA_RULE_CHAIN, Data: []byte(chain + "\x00")},
	})
	if err != nil {
		return nil, nil, err
	}
	req := netlink.Message{
		Header: netlink.Header{
			Type:  netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETRULE),
			Flags: netlink.Request | netlink.Dump,
		},
		Data: append([]byte{byte(t.Family), unix.NFNETLINK_V0, 0, 0}, attrs...),
	}
	msgs, err := conn.Execute(req)
	if err != nil {
		return nil, nil, fmt.Errorf("dump rules: %w", err)
	}
	var rules []*nftables.Rule
	incomplete := map[*nftables.Rule]bool{}
	for _, m := range msgs {
		if len(m.Data) < 4 {
			continue
		}
		r, complete, err := decodeRule(byte(t.Family), m.Data[4:])
		if err != nil {
			return nil, nil, err
		}
		r.Table, r.Chain = t, &nftables.Chain{Name: chain, Table: t}
		if !complete {
			incomplete[r] = true
		}
		rules = append(rules, r)
	}
	return rules, incomplete, nil
}

func decodeRule(fam byte, b []byte) (*nftables.Rule, bool, error) {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return nil, false, err
	}
	ad.ByteOrder = binary.BigEndian
	r, complete := &nftables.Rule{}, true
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_RULE_HANDLE:
			r.Handle = ad.Uint64()
		case unix.NFTA_RULE_USERDATA:
			r.UserData = ad.Bytes()
		case unix.NFTA_RULE_EXPRESSIONS:
			ad.Nested(func(nad *netlink.AttributeDecoder) error {
				for nad.Next() {
					e, ok := decodeExpr(fam, nad.Bytes())
					complete = complete && ok
					if e != nil {
						r.Exprs = append(r.Exprs, e)
					}
				}
				return nil
			})
		}
	}
	return r, complete, ad.Err()
}

// decodeExpr decodes one NFTA_LIST_ELEM; ok is false when it could not.
func decodeExpr(fam byte, b []byte) (expr.Any, bool) {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return nil, false
	}
	ad.ByteOrder = binary.BigEndian
	var name string
	var data []byte
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_EXPR_NAME:
			name = ad.String()
		case unix.NFTA_EXPR_DATA:
			data = ad.Bytes()
		}
	}
	if ad.Err() != nil {
		return nil, false
	}
	if name == "ct" {
		return decodeCt(data)
	}
	if name == "notrack" {
		return &expr.Notrack{}, true
	}
	e := newExpr(name)
	if e == nil || expr.Unmarshal(fam, data, e) != nil {
		return nil, false
	}
	// A verdict is an immediate writing the verdict register.
	if imm, ok := e.(*expr.Immediate); ok && imm.Register == unix.NFT_REG_VERDICT && len(imm.Data) == 0 {
		v := &expr.Verdict{}
		if expr.Unmarshal(fam, data, v) != nil {
			return nil, false
		}
		return v, true
	}
	return e, true
}

// decodeCt reads a ct expression with the attribute sizes the kernel uses
// (direction is a u8).
func decodeCt(data []byte) (expr.Any, bool) {
	ad, err := netlink.NewAttributeDecoder(data)
	if err != nil {
		return nil, false
	}
	ad.ByteOrder = binary.BigEndian
	ct := &expr.Ct{}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_CT_KEY:
			ct.Key = expr.CtKey(ad.Uint32())
		case unix.NFTA_CT_DREG:
			ct.Register = ad.Uint32()
		case unix.NFTA_CT_SREG:
			ct.Register, ct.SourceRegister = ad.Uint32(), true
		case unix.NFTA_CT_DIRECTION:
			ct.Direction = uint32(ad.Uint8())
		}
	}
	return ct, ad.Err() == nil
}

// newExpr mirrors the library's (unexported) table of expression names.
func newExpr(name string) expr.Any {
	switch name {
	case "meta":
		return &expr.Meta{}
	case "cmp":
		return &expr.Cmp{}
	case "payload":
		return &expr.Payload{}
	case "bitwise":
		return &expr.Bitwise{}
	case "lookup":
		return &expr.Lookup{}
	case "immediate":
		return &expr.Immediate{}
	case "counter":
		return &expr.Counter{}
	case "objref":
		return &expr.Objref{}
	case "reject":
		return &expr.Reject{}
	case "queue":
		return &expr.Queue{}
	case "range":
		return &expr.Range{}
	case "redir":
		return &expr.Redir{}
	case "nat":
		return &expr.NAT{}
	case "masq":
		return &expr.Masq{}
	case "limit":
		return &expr.Limit{}
	case "quota":
		return &expr.Quota{}
	case "dynset":
		return &expr.Dynset{}
	case "log":
		return &expr.Log{}
	case "exthdr":
		return &expr.Exthdr{}
	case "match":
		return &expr.Match{}
	case "target":
		return &expr.Target{}
	case "connlimit":
		return &expr.Connlimit{}
	case "flow_offload":
		return &expr.FlowOffload{}
	case "hash":
		return &expr.Hash{}
	case "fib":
		return &expr.Fib{}
	case "numgen":
		return &expr.Numgen{}
	}
	return nil
}
