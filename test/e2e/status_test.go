package e2e

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/vpnpass/vpnpass/test/lab"
)

type statusJSON struct {
	Backend struct {
		Kind string   `json:"kind"`
		Also []string `json:"also"`
	} `json:"backend"`
	Masquerade  bool   `json:"masquerade"`
	FlowOffload string `json:"flow_offload"`
	Helpers     map[string]struct {
		State      string   `json:"state"`
		AssignedBy []string `json:"assigned_by"`
	} `json:"helpers"`
	WAN struct {
		WANDevice string   `json:"wan_device"`
		Addresses []string `json:"addresses"`
		Gateway   string   `json:"gateway"`
	} `json:"wan"`
}

// TestStatusTellsTheTruth runs `vpnpass status --json` inside lab routers of
// every topology and firewall and checks the firewall in charge, the other
// firewalls hooking forward, the helpers and the WAN addressing.
func TestStatusTellsTheTruth(t *testing.T) {
	tests := []struct {
		name     string
		topo     lab.Topology
		fws      []lab.Firewall
		backend  string
		also     []string
		wantAddr string
	}{
		{"single NAT, no firewall", lab.Single, nil, "none", nil, "198.51.100.2"},
		{"double NAT, fw4", lab.Double, []lab.Firewall{lab.FW4}, "fw4", nil, "192.168.0.2"},
		{"CGNAT, iptables-legacy", lab.CGNAT, []lab.Firewall{lab.IptablesLegacyDrop}, "iptables-legacy", nil, "100.64.0.2"},
		{"single NAT, iptables-nft", lab.Single, []lab.Firewall{lab.IptablesNftDrop}, "iptables-nft", nil, "198.51.100.2"},
		{"single NAT, plain nftables", lab.Single, []lab.Firewall{lab.NftablesDrop}, "nftables", nil, "198.51.100.2"},
		{"single NAT, fw3", lab.Single, []lab.Firewall{lab.FW3}, "fw3", nil, "198.51.100.2"},
		{"fw4 beside iptables-nft", lab.Double, []lab.Firewall{lab.FW4Locked, lab.IptablesNftDrop}, "fw4", []string{"iptables-nft"}, "192.168.0.2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := lab.New(t, lab.Config{Topology: tc.topo, Firewalls: tc.fws})
			out, err := l.Router.Run(vpnpassBin, "status", "--json")
			if err != nil {
				t.Fatalf("status: %v\n%s", err, out)
			}
			var st statusJSON
			if err := json.Unmarshal(out, &st); err != nil {
				t.Fatalf("status JSON: %v\n%s", err, out)
			}
			if st.Backend.Kind != tc.backend {
				t.Errorf("backend = %q, want %q", st.Backend.Kind, tc.backend)
			}
			if !slices.Equal(st.Backend.Also, tc.also) && !(len(st.Backend.Also) == 0 && len(tc.also) == 0) {
				t.Errorf("also = %v, want %v", st.Backend.Also, tc.also)
			}
			if st.Helpers["pptp"].State != "builtin" || st.Helpers["gre"].State != "builtin" {
				t.Errorf("helpers = %+v, want pptp and gre builtin (this kernel has them built in)", st.Helpers)
			}
			if st.WAN.WANDevice != l.WANDevice {
				t.Errorf("wan_device = %q, want %q", st.WAN.WANDevice, l.WANDevice)
			}
			if !slices.Contains(st.WAN.Addresses, tc.wantAddr) {
				t.Errorf("wan addresses = %v, want %s among them", st.WAN.Addresses, tc.wantAddr)
			}
			if !st.Masquerade {
				t.Errorf("masquerade = false; the lab router masquerades on %s (by %s)", l.WANDevice, l.MasqueradeBy())
			}
			if st.FlowOffload != "none" {
				t.Errorf("flow_offload = %q, want none (this kernel has no flowtables)", st.FlowOffload)
			}
			wantAssign := []string{}
			if tc.backend == "fw4" {
				wantAssign = []string{"fw4"} // fw4's helper_lan assigns pptp to TCP 1723
			}
			if got := st.Helpers["pptp"].AssignedBy; !slices.Equal(got, wantAssign) {
				t.Errorf("pptp assigned_by = %v, want %v", got, wantAssign)
			}
			if st.WAN.Gateway != l.Gateway.String() {
				t.Errorf("gateway = %q, want %s", st.WAN.Gateway, l.Gateway)
			}
		})
	}
}
