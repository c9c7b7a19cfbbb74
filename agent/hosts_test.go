package agent

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func TestHostNamerReadsLeases(t *testing.T) {
	p := filepath.Join(t.TempDir(), "dhcp.leases")
	leases := "1732370000 AA:BB:CC:00:11:22 192.168.1.10 taro-pc 01:aa:bb:cc:00:11:22\n" +
		"1732370000 aa:bb:cc:00:11:33 192.168.1.11 * *\n"
	if err := os.WriteFile(p, []byte(leases), 0o644); err != nil {
		t.Fatal(err)
	}
	name := hostNamer(p)
	if n, m := name(netip.MustParseAddr("192.168.1.10")); n != "taro-pc" || m != "aa:bb:cc:00:11:22" {
		t.Errorf("192.168.1.10 = %q %q", n, m)
	}
	if n, m := name(netip.MustParseAddr("192.168.1.11")); n != "" || m != "aa:bb:cc:00:11:33" {
		t.Errorf("a lease without hostname: %q %q", n, m)
	}
	if n, _ := name(netip.MustParseAddr("192.168.1.99")); n != "" {
		t.Errorf("unknown host named %q", n)
	}
}
