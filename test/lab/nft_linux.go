package lab

import (
	"github.com/vpnpass/vpnpass/netfilter"

	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Names of the tables the lab itself creates over netlink.
const (
	// LabNATTable (family ip) masquerades where no firewall option does:
	// always in the isp, and in the router with "none" and "nftables-drop".
	LabNATTable = "lab_nat"
	// NftablesDropTable is the distro-like table of the nftables-drop
	// option (family inet).
	NftablesDropTable = "filter"
)

func (n *Node) nftConn() (*nftables.Conn, error) {
	c, err := nftables.New(nftables.WithNetNSFd(n.Fd()))
	if err != nil {
		return nil, fmt.Errorf("nftables conn in %s: %w", n.NS, err)
	}
	return c, nil
}

// addLabNAT creates `table ip lab_nat` with a postrouting nat chain that
// masquerades everything leaving through dev. It has no forward hook.
func addLabNAT(n *Node, dev string) error {
	c, err := n.nftConn()
	if err != nil {
		return err
	}
	t := c.AddTable(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: LabNATTable})
	ch := c.AddChain(&nftables.Chain{
		Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource,
	})
	c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: []expr.Any{
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(dev)},
		&expr.Masq{},
	}})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("add table ip %s in %s: %w", LabNATTable, n.NS, err)
	}
	return nil
}

// addPPTPHelper makes the isp a PPTP-passthrough box, as most home routers
// are: in its lab_nat table a `ct helper "pptp"` object (helper objects are
// table-scoped) and `tcp dport 1723 ct helper set "pptp"` in a prerouting
// chain after conntrack (priority 0 > -200). Without it GRE cannot cross
// the isp's NAT: the helper is needed on every NAT on the path.
func addPPTPHelper(n *Node) error {
	c, err := n.nftConn()
	if err != nil {
		return err
	}
	t := c.AddTable(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: LabNATTable})
	c.AddObj(&nftables.NamedObj{Table: t, Name: "pptp", Type: nftables.ObjTypeCtHelper,
		Obj: &expr.CtHelper{Name: "pptp", L3Proto: unix.NFPROTO_IPV4, L4Proto: unix.IPPROTO_TCP}})
	ch := c.AddChain(&nftables.Chain{
		Name: "helper", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityFilter,
	})
	c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(1723)},
		&expr.Objref{Type: unix.NFT_OBJECT_CT_HELPER, Name: "pptp"},
	}})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("add pptp helper to %s in %s: %w", LabNATTable, n.NS, err)
	}
	return nil
}

// addNftablesDrop creates what a distribution's /etc/nftables.conf with a
// closed forward chain looks like:
//
//	table inet filter {
//		chain input   { type filter hook input priority filter; policy accept; }
//		chain forward { type filter hook forward priority filter; policy drop;
//			ct state established,related accept
//			meta l4proto icmp accept
//			meta l4proto ipv6-icmp accept }
//		chain output  { type filter hook output priority filter; policy accept; }
//	}
//
// It is built over netlink so it also loads where no nft binary exists.
func addNftablesDrop(n *Node) error {
	c, err := n.nftConn()
	if err != nil {
		return err
	}
	t := c.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: NftablesDropTable})
	accept, drop := nftables.ChainPolicyAccept, nftables.ChainPolicyDrop
	for _, h := range []struct {
		name   string
		hook   *nftables.ChainHook
		policy *nftables.ChainPolicy
	}{
		{"input", nftables.ChainHookInput, &accept},
		{"forward", nftables.ChainHookForward, &drop},
		{"output", nftables.ChainHookOutput, &accept},
	} {
		ch := c.AddChain(&nftables.Chain{
			Name: h.name, Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: h.hook, Priority: nftables.ChainPriorityFilter, Policy: h.policy,
		})
		if h.name != "forward" {
			continue
		}
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: ctStateAccept(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED)})
		for _, proto := range []byte{unix.IPPROTO_ICMP, unix.IPPROTO_ICMPV6} {
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: []expr.Any{
				&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
				&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
				&expr.Verdict{Kind: expr.VerdictAccept},
			}})
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("add table inet %s in %s: %w", NftablesDropTable, n.NS, err)
	}
	return nil
}

// ctStateAccept is `ct state <bits> accept`. The state mask is in host byte
// order (as the kernel compares it), hence NativeEndian.
func ctStateAccept(bits uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(bits),
			Xor:  binaryutil.NativeEndian.PutUint32(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(0)},
		&expr.Verdict{Kind: expr.VerdictAccept},
	}
}

// ifname pads an interface name as the kernel stores it (IFNAMSIZ).
func ifname(s string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, s)
	return b
}

// NftTables lists the names of the node's nftables tables as "family name"
// ("inet fw4", "ip lab_nat"), read over netlink.
func (n *Node) NftTables() ([]string, error) {
	c, err := n.nftConn()
	if err != nil {
		return nil, err
	}
	ts, err := c.ListTables()
	if err != nil {
		return nil, fmt.Errorf("list tables in %s: %w", n.NS, err)
	}
	var out []string
	for _, t := range ts {
		out = append(out, familyName(t.Family)+" "+t.Name)
	}
	return out, nil
}

// familyName spells a table family as nft does.
func familyName(f nftables.TableFamily) string { return netfilter.NFTFamilyName(uint8(f)) }
