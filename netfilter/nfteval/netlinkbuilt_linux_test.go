package nfteval

import (
	"net/netip"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter/nftwire"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter"
)

// TestNetlinkBuilt builds a ruleset over netlink, as a program (and no nft
// binary) would, and evaluates through it. It runs in the foreign-kernel
// VMs too: host-order fields (ct state keys and masks, marks, device
// indexes) are encoded with NativeEndian and must read back right on
// big-endian kernels.
func TestNetlinkBuilt(t *testing.T) {
	ns := newNS(t)
	h, err := netlink.NewHandleAt(ns.h, unix.NETLINK_ROUTE) // route only: the VMs lack xfrm netlink
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "br-lan"}, PeerName: "eth1"}); err != nil {
		t.Fatalf("veth: %v", err)
	}
	idx, err := links(int(ns.h))
	if err != nil {
		t.Fatal(err)
	}
	buildNetlinkRuleset(t, ns.conn, idx["lo"])
	rs := ns.read(t)

	pkt := func(l4 uint8, port uint16, state string) netfilter.Packet {
		return lanToWAN(vpn.IPv4, l4, port, state)
	}
	udp, tcp := vpn.ProtoUDP, vpn.ProtoTCP
	other := pkt(udp, 500, "new")
	other.Dst = netip.MustParseAddr("192.0.2.1")
	fromLo := pkt(udp, 500, "new")
	fromLo.InIf = "lo"
	cases := []struct {
		name    string
		p       netfilter.Packet
		verdict netfilter.Verdict
		by      string
	}{
		{"jump to side", pkt(udp, 500, "new"), netfilter.Accept, "side-accept"},
		{"vmap established", pkt(udp, 500, "established"), netfilter.Accept, "flows"},
		{"vmap related", pkt(tcp, 1723, "related"), netfilter.Accept, "flows"},
		// The policy drops too: drop whether the unknown mark matches or not.
		{"mark unknown", pkt(udp, 4500, "new"), netfilter.Drop, "mark4500"},
		{"mark known", with(pkt(udp, 4500, "new"), func(p *netfilter.Packet) { p.Mark = netfilter.U32(1) }), netfilter.Drop, "mark4500"},
		{"mark known other", with(pkt(udp, 4500, "new"), func(p *netfilter.Packet) { p.Mark = netfilter.U32(2) }), netfilter.Drop, ""},
		{"ct state mask", pkt(tcp, 1723, "new"), netfilter.Accept, "pptp-new"},
		{"invalid", pkt(tcp, 1723, "invalid"), netfilter.Drop, ""},
		{"not a server", other, netfilter.Drop, ""},
		{"iif index", fromLo, netfilter.Accept, "lo"},
	}
	for _, c := range cases {
		e := forward(t, rs, c.p)
		by := ""
		if e.DecidedBy != nil {
			by = e.DecidedBy.Comment
		}
		if e.Verdict != c.verdict || by != c.by {
			t.Errorf("%s: got %s by %q, want %s by %q\n%s", c.name, e.Verdict, by, c.verdict, c.by, pathText(e))
		}
	}
	fwd := rs.Table("inet", "nl").Chain("fwd")
	for i, want := range map[int]string{
		0: "ct state vmap { established : accept, related : accept }",
		1: `iif "lo" accept`,
		4: "ct state new tcp dport 1723 accept",
	} {
		if got := Summary(fwd.Rules[i]); got != want {
			t.Errorf("rule %d: summary %q, want %q", i, got, want)
		}
	}
}

func buildNetlinkRuleset(t *testing.T, c *nftables.Conn, lo uint32) {
	t.Helper()
	host := binaryutil.NativeEndian.PutUint32
	accept := &expr.Verdict{Kind: expr.VerdictAccept}
	tb := c.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: "nl"})
	vmap := &nftables.Set{Table: tb, Anonymous: true, Constant: true, IsMap: true,
		KeyType: nftables.TypeCTState, DataType: nftables.TypeVerdict}
	servers := &nftables.Set{Table: tb, Name: "servers", KeyType: nftables.TypeIPAddr, Interval: true}
	for _, s := range []struct {
		set *nftables.Set
		els []nftables.SetElement
	}{
		{vmap, []nftables.SetElement{{Key: host(nftwire.CtStateBit("established")), VerdictData: accept},
			{Key: host(nftwire.CtStateBit("related")), VerdictData: accept}}},
		{servers, []nftables.SetElement{{Key: []byte{0, 0, 0, 0}, IntervalEnd: true},
			{Key: []byte{203, 0, 113, 0}}, {Key: []byte{203, 0, 114, 0}, IntervalEnd: true}}},
	} {
		if err := c.AddSet(s.set, s.els); err != nil {
			t.Fatal(err)
		}
	}
	side := c.AddChain(&nftables.Chain{Name: "side", Table: tb})
	drop := nftables.ChainPolicyDrop
	fwd := c.AddChain(&nftables.Chain{Name: "fwd", Table: tb, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &drop})
	add := func(ch *nftables.Chain, comment string, exprs ...expr.Any) {
		c.AddRule(&nftables.Rule{Table: tb, Chain: ch, Exprs: exprs,
			UserData: userdata.AppendString(nil, userdata.TypeComment, comment)})
	}
	port := func(l4 byte, p uint16) []expr.Any {
		return []expr.Any{
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{l4}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(p)},
		}
	}
	add(side, "side-accept", &expr.Counter{}, accept)
	add(fwd, "flows", &expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Lookup{SourceRegister: 1, SetName: vmap.Name, SetID: vmap.ID, IsDestRegSet: true})
	add(fwd, "lo", &expr.Meta{Key: expr.MetaKeyIIF, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: host(lo)}, accept)
	add(fwd, "mark4500", append(port(unix.IPPROTO_UDP, 4500), &expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: host(1)}, &expr.Verdict{Kind: expr.VerdictDrop})...)
	add(fwd, "to-side", append([]expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.NFPROTO_IPV4}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
		&expr.Lookup{SourceRegister: 1, SetName: servers.Name, SetID: servers.ID},
	}, append(port(unix.IPPROTO_UDP, 500), &expr.Verdict{Kind: expr.VerdictJump, Chain: "side"})...)...)
	add(fwd, "pptp-new", append([]expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: host(nftwire.CtStateBit("new")), Xor: host(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: host(0)},
	}, append(port(unix.IPPROTO_TCP, 1723), accept)...)...)
	if err := c.Flush(); err != nil {
		t.Fatalf("build ruleset over netlink: %v", err)
	}
}
