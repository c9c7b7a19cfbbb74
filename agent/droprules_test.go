package agent

import (
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
)

// TestDropRulesUseTheStatusElement: each drop names the element its status
// carries, whatever the order or number of statuses (dropRules paired
// Elements[i] with Footprint(p)[i] by position before).
func TestDropRulesUseTheStatusElement(t *testing.T) {
	ah6 := vpn.Element{Family: vpn.IPv6, L4: vpn.ProtoAH}
	natt4 := vpn.Element{Family: vpn.IPv4, L4: vpn.ProtoUDP, Port: vpn.PortNATT}
	by := &netfilter.Decider{Table: "fw4", Chain: "forward_lan", Handle: 7}
	status := func(e vpn.Element, v netfilter.Verdict) netfilter.ElementStatus {
		return netfilter.ElementStatus{Element: e, Match: e.Match(), Family: e.Family, Verdict: v, DecidedBy: by}
	}
	tests := []struct {
		name  string
		elems []netfilter.ElementStatus
		want  []vpn.Element
	}{
		{"subset", []netfilter.ElementStatus{status(ah6, netfilter.Drop)}, []vpn.Element{ah6}},
		{"reordered", []netfilter.ElementStatus{status(natt4, netfilter.Reject), status(ah6, netfilter.Accept)}, []vpn.Element{natt4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := dropRules(map[vpn.Protocol]netfilter.ProtoStatus{vpn.IPsec: {Elements: tc.elems}})
			if len(got) != len(tc.want) {
				t.Fatalf("%d drops, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, d := range got {
				if d.Element != tc.want[i] {
					t.Errorf("drop %d is %s/%s, want %s/%s", i, d.Element.Family, d.Element.Match(), tc.want[i].Family, tc.want[i].Match())
				}
			}
		})
	}
}
