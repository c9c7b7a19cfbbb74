package observer

import (
	"bytes"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

// setNames lists the names of the sets of our table. Only the names are
// read: google/nftables' GetSets decodes every set attribute (key types,
// concatenations, descriptions), ~9 KB of the release binary for a
// presence check (issue 16).
func (o Table) setNames() (map[string]bool, error) {
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: o.NetNS})
	if err != nil {
		return nil, fmt.Errorf("open nftables netlink: %w", err)
	}
	defer c.Close()
	attrs, err := netlink.MarshalAttributes([]netlink.Attribute{{Type: unix.NFTA_SET_TABLE, Data: []byte(TableName + "\x00")}})
	if err != nil {
		return nil, err
	}
	msgs, err := c.Execute(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETSET),
			Flags: netlink.Request | netlink.Dump},
		Data: append([]byte{unix.NFPROTO_INET, unix.NFNETLINK_V0, 0, 0}, attrs...),
	})
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, m := range msgs {
		if len(m.Data) < 4 {
			continue
		}
		err := nftwire.EachAttr(m.Data[4:], func(typ uint16, v []byte) error {
			if typ == unix.NFTA_SET_NAME {
				names[string(bytes.TrimRight(v, "\x00"))] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return names, nil
}
