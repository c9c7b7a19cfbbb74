package nft

import (
	"encoding/binary"
	"fmt"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter/nftwire"
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

// decodeRule decodes a rule through the shared decoder. complete is false
// when an expression could not be decoded (an *nftwire.Opaque): it is left
// out, so the rule can never compare equal to one of ours.
func decodeRule(fam byte, b []byte) (r *nftables.Rule, complete bool, err error) {
	r, complete = &nftables.Rule{}, true
	err = nftwire.EachAttr(b, func(typ uint16, v []byte) error {
		switch typ {
		case unix.NFTA_RULE_HANDLE:
			if len(v) == 8 {
				r.Handle = binary.BigEndian.Uint64(v)
			}
		case unix.NFTA_RULE_USERDATA:
			r.UserData = append([]byte(nil), v...)
		case unix.NFTA_RULE_EXPRESSIONS:
			exprs, _, err := nftwire.DecodeExprs(fam, v)
			for _, e := range exprs {
				if _, opaque := e.(*nftwire.Opaque); opaque {
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
