package fw

import (
	"slices"
	"testing"

	"github.com/google/nftables"

	"github.com/vpnpass/vpnpass/test/lab"
)

// TestCleanupAllRemovesProbeTables: a helper probe killed between creating
// and removing its table leaves `inet vpnpass_probe_<pid>` behind; CleanupAll
// removes it (in any family) and nothing that only looks alike.
func TestCleanupAllRemovesProbeTables(t *testing.T) {
	l := lab.New(t, lab.Config{Firewalls: []lab.Firewall{lab.NftablesDrop}})
	// Over netlink, not the nft binary: the test-vm guests have none.
	c, err := nftables.New(nftables.WithNetNSFd(l.Router.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	c.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: "vpnpass_probe_12345"})
	c.AddTable(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: "vpnpass_probe_7"})
	c.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: "vpnpass_prober"})
	if err := c.Flush(); err != nil {
		t.Fatalf("add the leftover tables: %v", err)
	}
	before, err := l.Router.NftTables()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Router.Do(func() error { return CleanupAll(t.TempDir()) }); err != nil {
		t.Fatalf("CleanupAll: %v", err)
	}
	after, err := l.Router.NftTables()
	if err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"inet vpnpass_probe_12345", "ip vpnpass_probe_7"} {
		if slices.Contains(after, gone) {
			t.Errorf("%s survived CleanupAll: tables %v", gone, after)
		}
	}
	for _, kept := range before {
		if !slices.Contains(after, kept) && kept != "inet vpnpass_probe_12345" && kept != "ip vpnpass_probe_7" {
			t.Errorf("CleanupAll removed %s, not ours: tables %v", kept, after)
		}
	}
}
