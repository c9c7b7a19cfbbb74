package wan

import (
	"encoding/json"
	"errors"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/vpnpass/vpnpass/test/golden"
)

// TestGoldenJSON pins the JSON of representative verdicts (field names and
// shapes of docs/interface.md#nat, and the wording of messages and advice).
func TestGoldenJSON(t *testing.T) {
	cases := map[string]Input{
		"single-nat": {Info: wan("198.51.100.2/24", "198.51.100.1"), PublicRanges: labPublic,
			Probes: Probes{STUN: &STUNResult{Server: "203.0.113.10:3478", Mapped: netip.MustParseAddrPort("198.51.100.2:41000")}}},
		"double-nat": {Info: Info{Device: "eth1", Addresses: pfx("192.168.0.2/24", "2001:db8:fe::2/64"), Gateway: ip("192.168.0.1")}, PublicRanges: labPublic,
			Probes: Probes{
				STUN:   &STUNResult{Server: "203.0.113.10:3478", Mapped: netip.MustParseAddrPort("198.51.100.2:1024")},
				NATPMP: &ExternalResult{Gateway: ip("192.168.0.1"), External: ip("198.51.100.2")},
				IGD:    &ExternalResult{Gateway: ip("192.168.0.1"), External: ip("198.51.100.2"), Model: "vpnpass lab ISP router"},
			}},
		"cgnat": {Info: wan("100.64.0.2/10", "100.64.0.1"),
			Probes: Probes{STUN: &STUNResult{Server: "203.0.113.10:3478", Err: errors.New("stun: 203.0.113.10:3478: no answer in time")}}},
		"map-e": {Info: Info{Device: "map-wanmap", Kind: "ip6tnl", Addresses: pfx("81.2.69.160/32"), IPv6Device: "eth1", IPv6Addresses: pfx("2a00:1450::2/64")},
			Network: []NetInterface{{Name: "wanmap", Proto: "map", Type: "map-e"}}},
		"ds-lite": {Info: Info{Device: "ds-dslite", Kind: "ip6tnl", Addresses: pfx("192.0.0.2/29"), Gateway: ip("192.0.0.1")},
			Network: []NetInterface{{Name: "dslite", Proto: "dslite"}}},
		"no-wan": {},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			golden.JSON(t, filepath.Join("testdata", "golden", name+".json"), Classify(in))
		})
	}
}

// TestNatFields checks the JSON keys against the Nat object (docs/interface.md#nat).
func TestNatFields(t *testing.T) {
	b, err := json.Marshal(Classify(Input{}))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := []string{"wan_device", "addresses", "gateway", "class", "code", "confirmed_by",
		"public_address", "upstream", "ipv6_global", "message", "advice"}
	if len(m) != len(want) {
		t.Errorf("JSON has %d keys, want %d: %s", len(m), len(want), b)
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	up, _ := m["upstream"].(map[string]any)
	if _, ok := up["address"]; !ok || len(up) != 2 {
		t.Errorf("upstream is %v, want {address, model}", m["upstream"])
	}
}
