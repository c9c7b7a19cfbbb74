package fw

import (
	"reflect"
	"testing"

	nf "github.com/vpnpass/vpnpass/netfilter"
)

func TestDecide(t *testing.T) {
	tests := []struct {
		name   string
		in     []Hooker
		charge nf.Kind
		also   []nf.Kind
	}{
		{"nothing hooks forward", nil, nf.KindNone, []nf.Kind{}},
		{"fw4 alone", []Hooker{{Kind: nf.KindFW4, Drops: true}}, nf.KindFW4, []nf.Kind{}},
		{"fw4 beside iptables-nft that drops", []Hooker{{Kind: nf.KindIptablesNft, Drops: true}, {Kind: nf.KindFW4, Drops: true}}, nf.KindFW4, []nf.Kind{nf.KindIptablesNft}},
		{"fw3 on legacy", []Hooker{{Kind: nf.KindFW3, Drops: true}}, nf.KindFW3, []nf.Kind{}},
		{"dropping legacy beats accepting nft table", []Hooker{{Kind: nf.KindNftables}, {Kind: nf.KindIptablesLegacy, Drops: true}}, nf.KindIptablesLegacy, []nf.Kind{nf.KindNftables}},
		{"both drop: nftables first", []Hooker{{Kind: nf.KindIptablesNft, Drops: true}, {Kind: nf.KindNftables, Drops: true}}, nf.KindNftables, []nf.Kind{nf.KindIptablesNft}},
		{"two nft tables count once", []Hooker{{Kind: nf.KindNftables, Table: "inet filter", Drops: true}, {Kind: nf.KindNftables, Table: "ip x"}}, nf.KindNftables, []nf.Kind{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, a := decide(tc.in)
			if c != tc.charge || !reflect.DeepEqual(a, tc.also) {
				t.Fatalf("decide = %s %v, want %s %v", c, a, tc.charge, tc.also)
			}
		})
	}
}
