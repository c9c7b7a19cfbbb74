package wan

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	double := Classify(Input{Info: wan("192.168.0.2/24", "192.168.0.1")})
	public := Classify(Input{Info: wan("198.51.100.7/24", "198.51.100.1"), PublicRanges: labPublic})
	cgnat := Classify(Input{Info: wan("100.64.0.2/10", "100.64.0.1")})
	mapE := Classify(Input{Info: Info{Device: "map-wanmap", Kind: "ip6tnl", Addresses: pfx("81.2.69.160/32")}})
	down := Classify(Input{})
	doubleConfirmed := Classify(Input{Info: wan("192.168.0.2/24", "192.168.0.1"),
		Probes: Probes{STUN: &STUNResult{Server: "s", Mapped: netipAP("198.51.100.2:1")}}})
	tests := []struct {
		name    string
		prev    *Nat
		next    Nat
		kinds   []string
		changes []string
	}{
		{"first look, double NAT", nil, double, []string{KindNATChanged}, []string{ChangeDouble}},
		{"first look, fine", nil, public, nil, nil},
		{"first look, WAN down", nil, down, nil, nil},
		{"private to public", &double, public, []string{KindWANChanged, KindNATChanged}, []string{ChangeCleared}},
		{"public to private", &public, double, []string{KindWANChanged, KindNATChanged}, []string{ChangeDouble}},
		{"to CGNAT", &public, cgnat, []string{KindWANChanged, KindNATChanged}, []string{ChangeCGNAT}},
		{"to MAP-E", &public, mapE, []string{KindWANChanged, KindNATChanged}, []string{ChangeSharing}},
		{"WAN lost", &double, down, []string{KindWANChanged, KindNATChanged}, []string{ChangeUnknown}},
		{"unchanged", &double, double, nil, nil},
		{"only a confirmation added", &double, doubleConfirmed, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs := Diff(tc.prev, &tc.next)
			var kinds, changes []string
			for _, e := range evs {
				kinds = append(kinds, e.Kind)
				if c, ok := e.Details["change"].(string); ok {
					changes = append(changes, c)
				}
				if e.Message == "" || e.Severity == "" {
					t.Errorf("event without message or severity: %+v", e)
				}
			}
			if !slices.Equal(kinds, tc.kinds) || !slices.Equal(changes, tc.changes) {
				t.Fatalf("kinds %v changes %v, want %v %v", kinds, changes, tc.kinds, tc.changes)
			}
		})
	}
	evs := Diff(&double, &public)
	if !strings.Contains(evs[0].Message, "eth1 192.168.0.2 via 192.168.0.1 → eth1 198.51.100.7 via 198.51.100.1") {
		t.Errorf("wan.changed message: %s", evs[0].Message)
	}
	if evs[1].Details["previous_code"] != "double-nat" || evs[1].Details["code"] != "nat-ok" || evs[1].Severity != "info" {
		t.Errorf("nat.changed details: %+v", evs[1])
	}
	if !strings.HasPrefix(evs[1].Message, "NAT problem cleared:") {
		t.Errorf("cleared message: %s", evs[1].Message)
	}
}

func netipAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
