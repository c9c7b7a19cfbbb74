// Command sizefloor links the libraries vpnpass is built on and nothing of
// its own, so test/bench-size.sh can subtract this floor from the agent's
// size. Each library gets one representative call so the linker keeps it.
// It lives under testdata so `go build ./...` and `go vet ./...` skip it.
package main

import (
	"fmt"
	"os"
	"os/exec"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	bolt "go.etcd.io/bbolt"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	nc, err := nftables.New(nftables.AsLasting())
	if err != nil {
		return err
	}
	defer nc.CloseLasting()
	t := nc.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: "floor"})
	ch := nc.AddChain(&nftables.Chain{Name: "c", Table: t})
	nc.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: []expr.Any{&expr.Counter{}, &expr.Verdict{Kind: expr.VerdictAccept}}})
	if err := nc.Flush(); err != nil {
		return err
	}
	if _, err := nc.GetRules(t, ch); err != nil {
		return err
	}
	// iptables: vpnpass runs the binaries (netfilter/ipt.Tool).
	if err := exec.Command("iptables", "-S", "--wait").Run(); err != nil {
		return err
	}
	rt, err := netlink.Dial(0, nil)
	if err != nil {
		return err
	}
	defer rt.Close()
	if _, err := rt.Execute(netlink.Message{}); err != nil {
		return err
	}
	// conntrack: vpnpass decodes ctnetlink itself (conntrack/decode_linux.go)
	// on mdlayher/netlink, above; ti-mo/conntrack is no longer linked.
	db, err := bolt.Open(os.Args[0]+".db", 0o600, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("b"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	})
}
