package nft

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/test/lab"
)

// TestProbeCtHelperLeavesNoTable: the probe answers for pptp (the lab
// kernel has the helper or not; both are answers) and removes its table.
func TestProbeCtHelperLeavesNoTable(t *testing.T) {
	l := lab.New(t, lab.Config{})
	if err := l.Router.Do(func() error {
		_, err := ProbeCtHelper("pptp", unix.IPPROTO_TCP)
		return err
	}); err != nil {
		t.Fatalf("ProbeCtHelper: %v", err)
	}
	tables, err := l.Router.NftTables()
	if err != nil {
		t.Fatal(err)
	}
	for _, tbl := range tables {
		if strings.Contains(tbl, ProbeTablePrefix) {
			t.Errorf("probe left %s behind", tbl)
		}
	}
}
