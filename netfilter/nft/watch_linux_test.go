package nft

import (
	"context"
	"testing"
	"time"

	"github.com/google/nftables"

	"github.com/vpnpass/vpnpass/test/lab"
)

// TestWatchRuleset: a transaction that changes the ruleset (table, chain,
// set) gives a signal; reading the ruleset gives none; signals coalesce, so
// the channel never holds more than one.
func TestWatchRuleset(t *testing.T) {
	lab.Require(t)
	l := lab.New(t, lab.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var changes <-chan struct{}
	if err := l.Router.Do(func() (err error) { changes, err = WatchRuleset(ctx); return err }); err != nil {
		t.Fatal(err)
	}
	conn, err := nftables.New(nftables.WithNetNSFd(l.Router.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	table := &nftables.Table{Family: nftables.TableFamilyINet, Name: "watched"}
	apply := func(what string, queue func()) {
		t.Helper()
		queue()
		if err := conn.Flush(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	want := func(what string, signalled bool) {
		t.Helper()
		select {
		case <-changes:
			if !signalled {
				t.Fatalf("%s: signalled", what)
			}
		case <-time.After(300 * time.Millisecond):
			if signalled {
				t.Fatalf("%s: no signal", what)
			}
		}
	}
	apply("add table", func() { conn.AddTable(table) })
	want("add table", true)
	if _, err := conn.ListTables(); err != nil {
		t.Fatal(err)
	}
	want("list tables", false)
	apply("add chain", func() { conn.AddChain(&nftables.Chain{Name: "c", Table: table}) })
	apply("add set", func() {
		if err := conn.AddSet(&nftables.Set{Table: table, Name: "s", KeyType: nftables.TypeIFName}, nil); err != nil {
			t.Fatal(err)
		}
	})
	apply("delete table", func() { conn.DelTable(table) })
	want("three transactions", true)
	// The later two may have left one more signal (never more: the
	// channel holds one); once it is read, only a change signals again.
	time.Sleep(200 * time.Millisecond)
	select {
	case <-changes:
	default:
	}
	if _, err := conn.ListTables(); err != nil {
		t.Fatal(err)
	}
	want("list tables again", false)
}
