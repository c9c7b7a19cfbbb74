package nftwire

import (
	"bytes"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/netfilter/nftwire/nftwiretest"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// ourExprs holds every expression shape vpnpass writes (netfilter/nft's
// rules and the observer's), with the optional attributes set and unset.
func ourExprs(setName string, setID uint32) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: unix.NFT_REG32_02},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: IfnameBytes("br-lan")},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{0, 0, 0, 0}},
		&expr.Lookup{SourceRegister: 1, SetName: setName, SetID: setID},
		&expr.Lookup{SourceRegister: 1, SetName: "lan", Invert: true},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Payload{DestRegister: unix.NFT_REG_1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Ct{Register: 1, Key: expr.CtKeyDIRECTION},
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(6), Xor: binaryutil.NativeEndian.PutUint32(0)},
		&expr.Immediate{Register: unix.NFT_REG32_09, Data: []byte{0x11, 0x94}},
		&expr.Dynset{SrcRegKey: unix.NFT_REG_1, SetName: "out4", SetID: 7, Operation: unix.NFT_DYNSET_OP_UPDATE},
		&expr.Objref{Type: int(nftables.ObjTypeCtHelper), Name: "vpnpass_pptp"},
		&expr.Verdict{Kind: expr.VerdictAccept},
		&expr.Verdict{Kind: expr.VerdictDrop},
		&expr.Verdict{Kind: expr.VerdictJump, Chain: "count_wan"},
	}
}

func TestBatchMatchesLibrary(t *testing.T) {
	const fam = unix.NFPROTO_INET
	tbl := &nftables.Table{Family: nftables.TableFamilyINet, Name: "vpnpass"}
	prio := nftables.ChainPriority(-10)
	accept := nftables.ChainPolicyAccept
	comment := userdata.AppendString(nil, userdata.TypeComment, "vpnpass:pptp")
	ifnames := [][]byte{IfnameBytes("br-lan"), IfnameBytes("lan2")}
	elems := func(keys [][]byte) []nftables.SetElement {
		var out []nftables.SetElement
		for _, k := range keys {
			out = append(out, nftables.SetElement{Key: k})
		}
		return out
	}
	portKeys := [][]byte{{17, 0, 0, 0, 1, 244, 0, 0}, {6, 0, 0, 0, 6, 187, 0, 0}}
	v4Key := nftables.MustConcatSetType(nftables.TypeIPAddr, nftables.TypeIPAddr, nftables.TypeInetProto, nftables.TypeInetService)
	v4Type, v4Len := Concat([]uint32{TypeIPAddr, TypeIPAddr, TypeInetProto, TypeInetService}, []uint32{4, 4, 1, 2})
	portType, portLen := Concat([]uint32{TypeInetProto, TypeInetService}, []uint32{1, 2})

	lib := nftwiretest.LibraryMessages(t, func(c *nftables.Conn) {
		c.AddTable(tbl)
		c.DelTable(tbl)
		c.AddChain(&nftables.Chain{Name: "forward", Table: tbl, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookForward, Priority: &prio, Policy: &accept})
		c.AddChain(&nftables.Chain{Name: "count_out", Table: tbl})
		c.FlushChain(&nftables.Chain{Name: "forward", Table: tbl})
		c.DelChain(&nftables.Chain{Name: "forward", Table: tbl})
		anon := &nftables.Set{Table: tbl, Anonymous: true, Constant: true, KeyType: nftables.TypeIFName, ID: 1, Name: "__set%d"}
		if err := c.AddSet(anon, elems(ifnames)); err != nil {
			t.Fatal(err)
		}
		lan := &nftables.Set{Table: tbl, Name: "lan", KeyType: nftables.TypeIFName, KeyByteOrder: binaryutil.NativeEndian, ID: 2}
		if err := c.AddSet(lan, elems(ifnames[:1])); err != nil {
			t.Fatal(err)
		}
		count := &nftables.Set{Table: tbl, Name: "out4", KeyType: v4Key, Concatenation: true, Dynamic: true,
			HasTimeout: true, Timeout: 600 * time.Second, Counter: true, Size: 4096, ID: 3}
		if err := c.AddSet(count, nil); err != nil {
			t.Fatal(err)
		}
		ports := &nftables.Set{Table: tbl, Anonymous: true, Constant: true, Concatenation: true, ID: 4, Name: "__set%d",
			KeyType: nftables.MustConcatSetType(nftables.TypeInetProto, nftables.TypeInetService)}
		if err := c.AddSet(ports, elems(portKeys)); err != nil {
			t.Fatal(err)
		}
		// The observer updates its LAN set by name, in a batch of its own.
		lan = &nftables.Set{Table: tbl, Name: "lan", KeyType: nftables.TypeIFName}
		c.FlushSet(lan)
		if err := c.SetAddElements(lan, elems(ifnames)); err != nil {
			t.Fatal(err)
		}
		c.AddRule(&nftables.Rule{Table: tbl, Chain: &nftables.Chain{Name: "forward"}, Exprs: ourExprs("__set%d", 1), UserData: comment})
		c.InsertRule(&nftables.Rule{Table: tbl, Chain: &nftables.Chain{Name: "forward"}, Exprs: ourExprs("__set%d", 4), UserData: comment})
		c.AddRule(&nftables.Rule{Table: tbl, Chain: &nftables.Chain{Name: "count_out"}, Exprs: ourExprs("lan", 2)})
		if err := c.DelRule(&nftables.Rule{Table: tbl, Chain: &nftables.Chain{Name: "forward"}, Handle: 42}); err != nil {
			t.Fatal(err)
		}
		c.AddObj(&nftables.NamedObj{Table: tbl, Name: "vpnpass_pptp", Type: nftables.ObjTypeCtHelper,
			Obj: &expr.CtHelper{Name: "pptp", L3Proto: unix.NFPROTO_IPV4, L4Proto: unix.IPPROTO_TCP}})
		c.DeleteObject(&nftables.NamedObj{Table: tbl, Name: "vpnpass_pptp", Type: nftables.ObjTypeCtHelper})
	})

	var b Batch
	b.AddTable(fam, "vpnpass")
	b.DelTable(fam, "vpnpass")
	b.AddChain(fam, "vpnpass", "forward", &Hook{Num: unix.NF_INET_FORWARD, Priority: -10})
	b.AddChain(fam, "vpnpass", "count_out", nil)
	b.FlushChain(fam, "vpnpass", "forward")
	b.DelChain(fam, "vpnpass", "forward")
	name, id := b.AddSet(fam, "vpnpass", &Set{KeyType: TypeIFName, KeyLen: 16}, ifnames)
	if name != "__set%d" || id != 1 {
		t.Fatalf("anonymous set %q id %d", name, id)
	}
	b.AddSet(fam, "vpnpass", &Set{Name: "lan", KeyType: TypeIFName, KeyLen: 16, HostOrder: true}, ifnames[:1])
	b.AddSet(fam, "vpnpass", &Set{Name: "out4", KeyType: v4Type, KeyLen: v4Len, Fields: []uint32{4, 4, 1, 2},
		Timeout: 600 * time.Second, Dynamic: true, Counter: true, Size: 4096}, nil)
	b.AddSet(fam, "vpnpass", &Set{KeyType: portType, KeyLen: portLen, Fields: []uint32{1, 2}}, portKeys)
	b.FlushSet(fam, "vpnpass", "lan")
	b.SetAddElements(fam, "vpnpass", "lan", ifnames)
	b.AddRule(fam, "vpnpass", "forward", ourExprs("__set%d", 1), comment, false)
	b.AddRule(fam, "vpnpass", "forward", ourExprs("__set%d", 4), comment, true)
	b.AddRule(fam, "vpnpass", "count_out", ourExprs("lan", 2), nil, false)
	b.DelRule(fam, "vpnpass", "forward", 42)
	b.AddCtHelper(fam, "vpnpass", "vpnpass_pptp", "pptp", unix.NFPROTO_IPV4, unix.IPPROTO_TCP)
	b.DelObj(fam, "vpnpass", "vpnpass_pptp", unix.NFT_OBJECT_CT_HELPER)
	nftwiretest.SameMessages(t, b.Messages(), lib)
}

// TestExprDataMatchesLibrary: ExprData is the library's MarshalExprData
// for every expression vpnpass writes, and refuses the others.
func TestExprDataMatchesLibrary(t *testing.T) {
	for _, e := range ourExprs("s", 3) {
		want, err := expr.MarshalExprData(unix.NFPROTO_INET, e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ExprData(e)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%T: % x, %v; want % x", e, got, err, want)
		}
	}
	for _, e := range []expr.Any{&expr.Counter{}, &expr.Reject{}, &expr.Dynset{SetName: "s", Exprs: []expr.Any{&expr.Counter{}}}} {
		if _, err := ExprData(e); err == nil {
			t.Errorf("%T encoded", e)
		}
	}
}

func TestSendEmptyAndBrokenBatch(t *testing.T) {
	var b Batch
	if err := b.Send(nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
	b.AddRule(unix.NFPROTO_INET, "t", "c", []expr.Any{&expr.Counter{}}, nil, false)
	if err := b.Send(nil); err == nil {
		t.Fatal("a rule with an expression we cannot encode was sent")
	}
	if b.Len() != 0 {
		t.Fatalf("batch not emptied: %d", b.Len())
	}
}
