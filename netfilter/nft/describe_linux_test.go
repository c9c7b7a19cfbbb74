package nft

import (
	"github.com/vpnpass/vpnpass/vpn"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

// allSpecs lists every rule a config can produce, in every table family.
func allSpecs(c config) []ruleSpec {
	var out []ruleSpec
	for _, p := range vpn.Toggled {
		for _, f := range []family{famInet, famIP, famIP6} {
			out = append(out, c.allowSpecs(p, f)...)
		}
		out = append(out, c.blockSpecs(p)...)
	}
	return append(out, c.helperSpecs()...)
}

// TestDescribeMatchesText: the renderer used for rules read back from the
// kernel gives, for our own expressions, exactly the text we render from the
// typed spec (so dry-run output reads the same for adds and deletes).
func TestDescribeMatchesText(t *testing.T) {
	for _, g := range goldenCases {
		c := g.config(t)
		for _, s := range allSpecs(c) {
			got := describe(s.exprs(markerLookup), netfilter.Tag(s.proto), resolveMarker)
			if got != s.text() {
				t.Errorf("describe = %q\n  text = %q", got, s.text())
			}
		}
	}
}

// TestDescribeForeign: rules someone else tagged as ours are shown as nft
// shows them. A device name without its NUL is nft's prefix match
// (`iifname "eth*"`), not the exact name "eth".
func TestDescribeForeign(t *testing.T) {
	cases := []struct {
		exprs []expr.Any
		want  string
	}{
		{[]expr.Any{&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte("eth")},
			&expr.Verdict{Kind: expr.VerdictAccept}}, `iifname "eth*" accept`},
		{[]expr.Any{&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: nftwire.IfnameBytes("eth1")},
			&expr.Verdict{Kind: expr.VerdictContinue}}, `oifname "eth1" continue`},
	}
	for _, c := range cases {
		if got := describe(c.exprs, "", resolveMarker); got != c.want {
			t.Errorf("describe = %q, want %q", got, c.want)
		}
	}
}

// TestCanonicalDistinguishes: distinct specs never share a canonical form,
// and a spec's form is stable.
func TestCanonicalDistinguishes(t *testing.T) {
	seen := map[string]string{}
	for _, g := range goldenCases {
		c := g.config(t)
		for _, s := range allSpecs(c) {
			for _, fam := range []nftables.TableFamily{nftables.TableFamilyINet} {
				k := wantCanon(fam, s)
				if k != wantCanon(fam, s) {
					t.Fatalf("unstable canonical form for %s", s.text())
				}
				if prev, ok := seen[k]; ok && prev != s.text() {
					t.Errorf("same canonical form for\n  %s\n  %s", prev, s.text())
				}
				seen[k] = s.text()
			}
		}
	}
}

func TestRuleComment(t *testing.T) {
	for _, tc := range []struct {
		ud   []byte
		want string
	}{
		{tagUserData(vpn.PPTP), "vpnpass:pptp"},
		{nil, ""},
		{[]byte{0}, ""},
		{[]byte{0, 200, 'x'}, ""}, // length beyond the data: ignored, no panic
		{[]byte{1, 1, 'x', 0, 3, 'a', 'b', 0}, "ab"},
	} {
		if got := ruleComment(tc.ud); got != tc.want {
			t.Errorf("ruleComment(%v) = %q, want %q", tc.ud, got, tc.want)
		}
	}
}
