package nft

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/vpn"

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

// TestDescribeKnowsOurRules: the text of our rules (include file, dry-run)
// is describe of their expressions, so describe must know every expression
// shape we write: none may fall back to its Go type in brackets.
func TestDescribeKnowsOurRules(t *testing.T) {
	for _, g := range goldenCases {
		c := g.config(t)
		for _, s := range allSpecs(c) {
			if got := s.text(); strings.Contains(got, "[*expr.") || !strings.HasSuffix(got, " comment "+strconv.Quote(netfilter.Tag(s.proto))) {
				t.Errorf("text of %+v = %q", s, got)
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
			for _, fam := range []nftwire.Family{nftwire.FamilyINet} {
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
		if got := nftwire.RuleComment(tc.ud); got != tc.want {
			t.Errorf("nftwire.RuleComment(%v) = %q, want %q", tc.ud, got, tc.want)
		}
	}
}
