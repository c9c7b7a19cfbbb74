package nft

import (
	"testing"

	"github.com/vpnpass/vpnpass/netfilter/nftwire/nftwiretest"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
	"github.com/vpnpass/vpnpass/vpn"
)

// libraryRule queues r as the backend did with the library's Conn: its
// interface sets as anonymous constant sets (IDs from *id, in the order the
// batch hands them out), then the rule.
func libraryRule(t *testing.T, c *nftables.Conn, tb *nftables.Table, chain string, r ruleSpec, insert bool, id *uint32) {
	lookup := func(names []string) expr.Any {
		*id++
		set := &nftables.Set{Table: tb, Anonymous: true, Constant: true, KeyType: nftables.TypeIFName, ID: *id, Name: "__set%d"}
		var els []nftables.SetElement
		for _, n := range names {
			els = append(els, nftables.SetElement{Key: nftwire.IfnameBytes(n)})
		}
		if err := c.AddSet(set, els); err != nil {
			t.Fatal(err)
		}
		return &expr.Lookup{SourceRegister: reg1, SetName: set.Name, SetID: set.ID}
	}
	rule := &nftables.Rule{Table: tb, Chain: &nftables.Chain{Name: chain, Table: tb}, Exprs: r.exprs(lookup), UserData: tagUserData(r.proto)}
	if insert {
		c.InsertRule(rule)
	} else {
		c.AddRule(rule)
	}
}

// TestBatchMatchesLibrary: every rule a config can produce (added and
// inserted, in every table family, with one and with several devices), our
// chains, the ct helper object and the deletions go out as the library
// sent them, message for message.
func TestBatchMatchesLibrary(t *testing.T) {
	cfgs := []config{}
	for _, g := range goldenCases {
		cfgs = append(cfgs, g.config(t))
	}
	multi, err := validate(netfilter.KindFW4, []string{"br-lan", "br-guest"}, netfilter.WAN{IPv4: []string{"eth1", "wwan0"}, IPv6: []string{"eth1"}}, "", true)
	if err != nil {
		t.Fatal(err)
	}
	cfgs = append(cfgs, multi)
	tables := []*nftwire.Table{ourTableRef, {Family: nftwire.FamilyIPv4, Name: "filter"}, {Family: nftwire.FamilyIPv6, Name: "filter"}}
	for _, c := range cfgs {
		for _, tb := range tables {
			for _, insert := range []bool{false, true} {
				var b nftwire.Batch
				for _, s := range allSpecs(c) {
					queueRule(&b, tb, "forward", s, insert)
				}
				id := uint32(0)
				want := nftwiretest.LibraryMessages(t, func(conn *nftables.Conn) {
					for _, s := range allSpecs(c) {
						libraryRule(t, conn, libTable(tb), "forward", s, insert, &id)
					}
				})
				nftwiretest.SameMessages(t, b.Messages(), want)
			}
		}
	}

	all := netfilter.Desired{}
	for _, p := range vpn.Toggled {
		all[p] = netfilter.ModeBlock
	}
	all[vpn.PPTP] = netfilter.ModeAllow
	p := &plan{}
	p.addOurTable(cfgs[len(cfgs)-1].ours(all))
	p.delRule(ourTableRef, "forward", existing{rule: &nftwire.Rule{Handle: 7}})
	p.add(phaseDelObj, "delete", ourTableRef, "", "", "", func(b *nftwire.Batch) {
		b.DelObj(unix.NFPROTO_INET, OurTable, HelperObject, unix.NFT_OBJECT_CT_HELPER)
	})
	var b nftwire.Batch
	for _, o := range p.sorted() {
		if o.queue != nil {
			o.queue(&b)
		}
	}
	id := uint32(0)
	want := nftwiretest.LibraryMessages(t, func(c *nftables.Conn) {
		tb := libTable(ourTableRef)
		c.DelRule(&nftables.Rule{Table: tb, Chain: &nftables.Chain{Name: "forward", Table: tb}, Handle: 7})
		c.DeleteObject(&nftables.NamedObj{Table: tb, Name: HelperObject, Type: nftables.ObjTypeCtHelper})
		c.AddTable(tb)
		c.AddObj(&nftables.NamedObj{Table: tb, Name: HelperObject, Type: nftables.ObjTypeCtHelper,
			Obj: &expr.CtHelper{Name: "pptp", L3Proto: unix.NFPROTO_IPV4, L4Proto: unix.IPPROTO_TCP}})
		want := cfgs[len(cfgs)-1].ours(all)
		for _, ch := range want.chains {
			accept, hook := nftables.ChainPolicyAccept, nftables.ChainHook(ch.hooknum())
			c.AddChain(&nftables.Chain{Name: ch.name, Table: tb, Type: nftables.ChainTypeFilter,
				Hooknum: &hook, Priority: nftables.ChainPriorityRef(nftables.ChainPriority(ch.prio)), Policy: &accept})
		}
		for _, ch := range want.chains {
			for _, r := range want.rules[ch.name] {
				libraryRule(t, c, tb, ch.name, r, false, &id)
			}
		}
	})
	nftwiretest.SameMessages(t, b.Messages(), want)
}

// libTable is t as google/nftables spells it, for the library's batches the
// tests compare ours with.
func libTable(t *nftwire.Table) *nftables.Table {
	return &nftables.Table{Name: t.Name, Family: nftables.TableFamily(t.Family)}
}
