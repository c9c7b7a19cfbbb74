package nftwire

import (
	"testing"

	"github.com/google/nftables/expr"
)

// TestIfname: nft encodes `iifname "eth0"` NUL padded and `iifname "eth*"`
// as "eth" without a NUL (a prefix match); both must read back as written.
func TestIfname(t *testing.T) {
	cases := []struct {
		b    []byte
		want string
	}{
		{IfnameBytes("eth0"), "eth0"},
		{[]byte("eth0\x00"), "eth0"},
		{[]byte("eth"), "eth*"},
		{IfnameBytes("abcdefghijklmno"), "abcdefghijklmno"},
		{[]byte{}, "*"}, // `iifname "*"`: any device
	}
	for _, c := range cases {
		if got := IfnameString(c.b); got != c.want {
			t.Errorf("IfnameString(%q) = %q, want %q", c.b, got, c.want)
		}
	}
	if b := IfnameBytes("br-lan"); len(b) != 16 || string(b[:7]) != "br-lan\x00" {
		t.Errorf("IfnameBytes(br-lan) = %q", b)
	}
}

func TestText(t *testing.T) {
	cases := []struct{ got, want string }{
		{VerdictText(&expr.Verdict{Kind: expr.VerdictAccept}), "accept"},
		{VerdictText(&expr.Verdict{Kind: expr.VerdictJump, Chain: "x"}), "jump x"},
		{VerdictText(&expr.Verdict{Kind: expr.VerdictContinue}), "continue"},
		{VerdictText(&expr.Verdict{Kind: 7}), "verdict 7"},
		{CtStateText(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED), "established,related"},
		{CtStateText(expr.CtStateBitNEW | expr.CtStateBitUNTRACKED | 1<<9), "new,untracked,0x200"},
		{CtStateText(0), "0x0"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("%d: %q, want %q", i, c.got, c.want)
		}
	}
}
