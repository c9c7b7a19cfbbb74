// Command libcalls links each library call a size rule forbids
// (sizerules_test.go builds it); it is never run. Under testdata, so
// `go build ./...` and `go vet ./...` skip it.
package main

import (
	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/ti-mo/conntrack"
)

func main() {
	c, _ := nftables.New()
	_, _ = c.AddMonitor(nftables.NewMonitor())
	t := &nftables.Table{Family: nftables.TableFamilyINet, Name: "t"}
	_, _ = c.GetSets(t)
	_, _ = c.GetNamedObjects(t)
	_, _ = c.GetSetElements(&nftables.Set{Table: t, Name: "s"})
	_, _ = c.GetRules(t, &nftables.Chain{Table: t, Name: "c"})
	_, _ = c.ListChains()
	_, _ = c.ListTables()
	// The writers: a rule (every expression's marshal), a chain, a set
	// with elements, an object, the batch.
	c.AddChain(&nftables.Chain{Name: "c", Table: t})
	c.AddRule(&nftables.Rule{Table: t, Chain: &nftables.Chain{Name: "c"}, Exprs: []expr.Any{&expr.Cmp{}}})
	_ = c.AddSet(&nftables.Set{Table: t, Name: "s", KeyType: nftables.TypeInetProto}, []nftables.SetElement{{Key: []byte{6}}})
	c.AddObj(&nftables.NamedObj{Table: t, Name: "h", Type: nftables.ObjTypeCtHelper, Obj: &expr.CtHelper{Name: "pptp"}})
	_ = c.Flush()
	ct, _ := conntrack.Dial(nil)
	_, _ = ct.Get(conntrack.Flow{})
}
