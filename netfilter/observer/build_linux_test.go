package observer

import (
	"bytes"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/netfilter/nftwire/nftwiretest"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"

	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

// libraryBuild is build written with google/nftables' Conn, as the
// observer wrote its table before nftwire's batches. Set IDs are given in
// the order build creates the sets (the library counts them process-wide).
func libraryBuild(t *testing.T, c *nftables.Conn, lanDevices []string) {
	id := uint32(0)
	next := func() uint32 { id++; return id }
	keys := func(ks [][]byte) []nftables.SetElement {
		var out []nftables.SetElement
		for _, k := range ks {
			out = append(out, nftables.SetElement{Key: k})
		}
		return out
	}
	c.AddTable(libObsTable)
	c.DelTable(libObsTable)
	tb := c.AddTable(libObsTable)
	lan := &nftables.Set{Table: tb, Name: obsSetLAN, KeyType: nftables.TypeIFName, KeyByteOrder: binaryutil.NativeEndian, ID: next()}
	must(t, c.AddSet(lan, keys(lanElements(lanDevices))))
	out := c.AddChain(&nftables.Chain{Name: obsChainOut, Table: tb})
	in := c.AddChain(&nftables.Chain{Name: obsChainIn, Table: tb})
	c.AddChain(&nftables.Chain{Name: obsChainWAN, Table: tb})
	for _, d := range obsDirs {
		for _, f := range obsFamilies {
			addr := nftables.TypeIPAddr
			if f.addrLen == 16 {
				addr = nftables.TypeIP6Addr
			}
			set := &nftables.Set{Table: tb, Name: f.sets[d.set], Concatenation: true, ID: next(),
				KeyType: nftables.MustConcatSetType(addr, addr, nftables.TypeInetProto, nftables.TypeInetService),
				Dynamic: true, HasTimeout: true, Timeout: Timeout * time.Second, Counter: true, Size: SetSize}
			must(t, c.AddSet(set, nil))
			ports := &nftables.Set{Table: tb, Anonymous: true, Constant: true, Concatenation: true, ID: next(), Name: "__set%d",
				KeyType: nftables.MustConcatSetType(nftables.TypeInetProto, nftables.TypeInetService)}
			must(t, c.AddSet(ports, keys(portElements())))
			protos := &nftables.Set{Table: tb, Anonymous: true, Constant: true, KeyType: nftables.TypeInetProto, ID: next(), Name: "__set%d"}
			must(t, c.AddSet(protos, keys(protoElements())))
			rules := countRules(f, d, setRef{ports.Name, ports.ID}, setRef{protos.Name, protos.ID}, setRef{set.Name, set.ID})
			for _, exprs := range rules {
				c.AddRule(&nftables.Rule{Table: tb, Chain: &nftables.Chain{Name: d.chain, Table: tb}, Exprs: exprs})
			}
		}
	}
	prio := nftables.ChainPriority(obsPriority)
	accept := nftables.ChainPolicyAccept
	fwd := c.AddChain(&nftables.Chain{Name: obsChainForward, Table: tb, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: &prio, Policy: &accept})
	output := c.AddChain(&nftables.Chain{Name: obsChainOutput, Table: tb, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookOutput, Priority: &prio, Policy: &accept})
	jump := func(ch *nftables.Chain, key expr.MetaKey, invert bool, to *nftables.Chain) {
		c.AddRule(&nftables.Rule{Table: tb, Chain: ch, Exprs: []expr.Any{
			&expr.Meta{Key: key, Register: 1},
			&expr.Lookup{SourceRegister: 1, SetName: lan.Name, SetID: lan.ID, Invert: invert},
			&expr.Verdict{Kind: expr.VerdictJump, Chain: to.Name},
		}})
	}
	jump(fwd, expr.MetaKeyIIFNAME, false, out)
	jump(fwd, expr.MetaKeyOIFNAME, false, in)
	jump(output, expr.MetaKeyOIFNAME, true, out)
	input := c.AddChain(&nftables.Chain{Name: obsChainInput, Table: tb, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: &prio, Policy: &accept})
	c.AddRule(&nftables.Rule{Table: tb, Chain: input, Exprs: []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
		&expr.Lookup{SourceRegister: 1, SetName: lan.Name, SetID: lan.ID, Invert: true},
		&expr.Ct{Key: expr.CtKeyDIRECTION, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{0}},
		&expr.Verdict{Kind: expr.VerdictJump, Chain: obsChainWAN},
	}})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestBuildMatchesLibrary: the observer's batches (the whole table, the LAN
// set's update, the removal) are the library's message for message.
func TestBuildMatchesLibrary(t *testing.T) {
	lanDevices := []string{"br-lan", "wlan0"}
	var b nftwire.Batch
	build(&b, lanDevices)
	compare(t, "build", b.Messages(), nftwiretest.LibraryMessages(t, func(c *nftables.Conn) { libraryBuild(t, c, lanDevices) }))

	b = nftwire.Batch{}
	b.FlushSet(inet, TableName, obsSetLAN)
	b.SetAddElements(inet, TableName, obsSetLAN, lanElements(lanDevices))
	compare(t, "LAN devices", b.Messages(), nftwiretest.LibraryMessages(t, func(c *nftables.Conn) {
		lan := &nftables.Set{Table: libObsTable, Name: obsSetLAN, KeyType: nftables.TypeIFName}
		c.FlushSet(lan)
		must(t, c.SetAddElements(lan, []nftables.SetElement{{Key: lanElements(lanDevices)[0]}, {Key: lanElements(lanDevices)[1]}}))
	}))
}

func compare(t *testing.T, what string, got, want []netlink.Message) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d messages, the library sends %d", what, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Header.Type != w.Header.Type || g.Header.Flags != w.Header.Flags || !bytes.Equal(g.Data, w.Data) {
			t.Errorf("%s, message %d:\n got  %v %v % x\n want %v %v % x", what, i, g.Header.Type, g.Header.Flags, g.Data,
				w.Header.Type, w.Header.Flags, w.Data)
		}
	}
}

// libObsTable is obsTable as google/nftables spells it.
var libObsTable = &nftables.Table{Family: nftables.TableFamily(obsTable.Family), Name: obsTable.Name}
