package nfteval

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestHelperAssignments finds fw4's pptp rule and ours, with the hooks that
// reach them; a rule in a chain no base chain reaches assigns nothing.
func TestHelperAssignments(t *testing.T) {
	ns := newNS(t)
	ns.load(t, fw4Ruleset(t, false)+`
table inet vpnpass {
	ct helper pptp { type "pptp" protocol tcp; l3proto ip; }
	chain helper_pre {
		type filter hook prerouting priority 10; policy accept;
		iifname "br-lan" tcp dport 1723 ct helper set "pptp" comment "vpnpass:pptp"
	}
	chain helper_out {
		type filter hook output priority 10; policy accept;
		jump helper_ports
	}
	chain helper_ports { tcp dport { 1723, 1724 } ct helper set "pptp"; }
	chain orphan { tcp dport 1723 ct helper set "pptp"; }
}
`)
	rs := ns.read(t)
	got := map[string]string{}
	for _, a := range rs.HelperAssignments("pptp") {
		got[a.Table+"/"+a.Chain] = strings.Join(a.Hooks, ",") + " " + joinPorts(a.Ports)
	}
	want := map[string]string{
		"fw4/helper_lan":       "prerouting 1723",
		"vpnpass/helper_pre":   "prerouting 1723",
		"vpnpass/helper_ports": "output 1723,1724",
		"vpnpass/orphan":       " 1723",
	}
	if len(got) != len(want) {
		t.Errorf("assignments %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %q, want %q", k, got[k], w)
		}
	}
	if got := rs.HelperAssignments("h323"); len(got) != 0 {
		t.Errorf("h323 assignments %+v", got)
	}
}

func joinPorts(ps []uint16) string {
	var s []string
	for _, p := range ps {
		s = append(s, strconv.Itoa(int(p)))
	}
	return strings.Join(s, ",")
}

// TestMasquerade: masquerade counts when a NAT postrouting chain can reach
// it for traffic out of the device, whatever the source address.
func TestMasquerade(t *testing.T) {
	cases := []struct {
		name    string
		ruleset string
		wan     map[string]bool
	}{
		{"saddr-restricted", `table ip nat {
	chain post { type nat hook postrouting priority srcnat; policy accept;
		ip saddr 192.168.1.0/24 oifname "eth1" masquerade
	}
}
`, map[string]bool{"eth1": true, "eth2": false}},
		{"accepted-before", `table inet n {
	chain post { type nat hook postrouting priority srcnat; policy accept;
		oifname "eth1" accept
		masquerade
	}
}
`, map[string]bool{"eth1": false, "eth2": true}},
		{"snat-is-not-masquerade", `table inet n {
	chain post { type nat hook postrouting priority srcnat; policy accept;
		oifname "eth1" snat ip to 198.51.100.2
	}
}
`, map[string]bool{"eth1": false}},
		{"filter-chain-ignored", `table inet n {
	chain post { type filter hook postrouting priority 0; policy accept; }
}
`, map[string]bool{"eth1": false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ns := newNS(t)
			ns.load(t, c.ruleset)
			rs := ns.read(t)
			for dev, want := range c.wan {
				if got := rs.Masquerade(dev); got != want {
					t.Errorf("Masquerade(%q) = %v, want %v", dev, got, want)
				}
			}
		})
	}
}

// TestMasqueradeIptablesNft: iptables-nft's MASQUERADE counts too.
func TestMasqueradeIptablesNft(t *testing.T) {
	if _, err := exec.LookPath("iptables-nft"); err != nil {
		t.Skip("iptables-nft not installed")
	}
	ns := newNS(t)
	ns.run(t, "iptables-nft", "-t", "nat", "-A", "POSTROUTING", "-o", "eth1", "-j", "MASQUERADE")
	rs := ns.read(t)
	if !rs.Masquerade("eth1") || rs.Masquerade("eth2") {
		t.Errorf("Masquerade eth1=%v eth2=%v, want true/false", rs.Masquerade("eth1"), rs.Masquerade("eth2"))
	}
}
