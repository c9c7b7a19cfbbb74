package fw

import (
	"github.com/vpnpass/vpnpass/vpn"
	"reflect"
	"testing"

	nf "github.com/vpnpass/vpnpass/netfilter"
)

func TestPlan(t *testing.T) {
	tests := []struct {
		name  string
		det   Detection
		force nf.Kind
		want  []Spec
		err   bool
	}{
		{"no firewall, nf_tables", Detection{InCharge: nf.KindNone, NFTables: true}, "", []Spec{{nf.KindNftables, Primary}}, false},
		{"no firewall, old kernel", Detection{InCharge: nf.KindNone}, "", []Spec{{nf.KindIptablesLegacy, Primary}}, false},
		{"fw4 with iptables-nft dropping", Detection{InCharge: nf.KindFW4, NFTables: true, Hookers: []Hooker{
			{Kind: nf.KindFW4, Drops: true}, {Kind: nf.KindIptablesNft, Drops: true}}}, "",
			[]Spec{{nf.KindFW4, Primary}, {nf.KindIptablesNft, Extra}}, false},
		{"fw4 with accepting iptables-nft", Detection{InCharge: nf.KindFW4, NFTables: true, Hookers: []Hooker{
			{Kind: nf.KindFW4, Drops: true}, {Kind: nf.KindIptablesNft}}}, "",
			[]Spec{{nf.KindFW4, Primary}}, false},
		{"fw4 covers other nft tables itself", Detection{InCharge: nf.KindFW4, NFTables: true, Hookers: []Hooker{
			{Kind: nf.KindFW4, Drops: true}, {Kind: nf.KindNftables, Drops: true}}}, "",
			[]Spec{{nf.KindFW4, Primary}}, false},
		{"legacy in charge, nft table drops", Detection{InCharge: nf.KindIptablesLegacy, NFTables: true, Legacy: true, Hookers: []Hooker{
			{Kind: nf.KindIptablesLegacy, Drops: true}, {Kind: nf.KindNftables, Drops: true}}}, "",
			[]Spec{{nf.KindIptablesLegacy, Primary}, {nf.KindNftables, Extra}}, false},
		{"forced iptables on nft-only kernel", Detection{InCharge: nf.KindNone, NFTables: true}, "iptables", []Spec{{nf.KindIptablesNft, Primary}}, false},
		{"forced nftables without nf_tables", Detection{InCharge: nf.KindIptablesLegacy, Legacy: true}, "nftables", nil, true},
		{"unknown backend", Detection{}, "pf", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Plan(tc.det, tc.force)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if !tc.err && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Plan = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestExtraDesiredKeepsAllowsOnly(t *testing.T) {
	got := extraDesired(nf.Desired{vpn.PPTP: nf.ModeBlock, vpn.IPsec: nf.ModeAllow, vpn.L2TP: nf.ModeDefault})
	if !reflect.DeepEqual(got, nf.Desired{vpn.IPsec: nf.ModeAllow}) {
		t.Fatalf("extraDesired = %v", got)
	}
}
