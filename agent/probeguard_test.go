package agent

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
)

// TestProbeGuard: a remote caller may not aim probe at loopback,
// link-local, the router's own or LAN addresses, and gets 3 probes in a
// row then one every 20 s, one at a time; the local CLI may do anything.
// The clock is injected (time.Now carries a monotonic reading, so a wall
// clock step at NTP sync neither refills nor empties the bucket).
func TestProbeGuard(t *testing.T) {
	inward := []netip.Prefix{netip.MustParsePrefix("192.168.1.1/32"), netip.MustParsePrefix("192.168.1.0/24"),
		netip.MustParsePrefix("fd00:1::/64"), netip.MustParsePrefix("203.0.113.7/32")}
	g := newProbeGuard(func() []netip.Prefix { return inward })
	now := time.Unix(1_000_000, 0)
	g.now = func() time.Time { return now }
	rpcd := api.Caller{Origin: api.OriginRPCD, User: "isp"}
	refused := []struct{ host, why string }{
		{"127.0.0.1", "loopback"}, {"::1", "loopback"}, {"169.254.1.1", "link-local"}, {"fe80::1", "link-local"},
		{"192.168.1.1", "router's own"}, {"203.0.113.7", "router's own"}, {"192.168.1.50", "LAN address (192.168.1.0/24)"},
		{"fd00:1::9", "LAN address"}, {"::ffff:192.168.1.9", "LAN address"},
	}
	for _, r := range refused {
		_, err := g.admit(rpcd, netip.MustParseAddr(r.host))
		if err == nil || !strings.Contains(err.Error(), r.why) || !strings.Contains(err.Error(), "bad_params") {
			t.Errorf("%s: %v, want a refusal naming %q", r.host, err, r.why)
		}
		if release, err := g.admit(api.Caller{Origin: api.OriginCLI}, netip.MustParseAddr(r.host)); err != nil {
			t.Errorf("%s from the CLI: %v", r.host, err)
		} else {
			release()
		}
	}
	server := netip.MustParseAddr("198.51.100.4")
	release, err := g.admit(rpcd, server)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.admit(api.Caller{Origin: api.OriginUbus}, server); err == nil || !strings.Contains(err.Error(), "one at a time") {
		t.Errorf("a second probe while one runs: %v", err)
	}
	release()
	for i := 0; i < 2; i++ {
		r, err := g.admit(rpcd, server)
		if err != nil {
			t.Fatalf("probe %d of the burst: %v", i+2, err)
		}
		r()
	}
	if _, err := g.admit(rpcd, server); err == nil || !strings.Contains(err.Error(), "rate limit") || !strings.Contains(err.Error(), "20s") {
		t.Errorf("fourth probe: %v", err)
	}
	now = now.Add(21 * time.Second)
	r, err := g.admit(rpcd, server)
	if err != nil {
		t.Fatalf("after 21 s: %v", err)
	}
	r()
	if _, err := g.admit(rpcd, server); err == nil {
		t.Error("the refill gave more than one probe")
	}
}
