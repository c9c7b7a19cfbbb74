package nftwire

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// VerdictText spells a verdict as nft prints it.
func VerdictText(v *expr.Verdict) string {
	switch v.Kind {
	case expr.VerdictAccept:
		return "accept"
	case expr.VerdictDrop:
		return "drop"
	case expr.VerdictJump:
		return "jump " + v.Chain
	case expr.VerdictGoto:
		return "goto " + v.Chain
	case expr.VerdictReturn:
		return "return"
	case expr.VerdictContinue:
		return "continue"
	case expr.VerdictQueue:
		return "queue"
	}
	return "verdict " + strconv.FormatInt(int64(v.Kind), 10)
}

// ctStateNames names the bits of a ct state mask, bit i at index i
// (NF_CT_STATE_INVALID_BIT is bit 0, ..._UNTRACKED_BIT bit 6).
var ctStateNames = []string{"invalid", "established", "related", "new", "", "", "untracked"}

// CtStateBit returns the ct state bit nft names name ("new"), 0 for none.
func CtStateBit(name string) uint32 {
	for i, n := range ctStateNames {
		if n != "" && n == name {
			return 1 << i
		}
	}
	return 0
}

// CtStateText spells a ct state mask (host order) as nft does:
// "established,related".
func CtStateText(mask uint32) string { return BitNames(mask, ctStateNames) }

// BitNames joins the names of the bits set in v (bit i named names[i]); bits
// without a name are shown in hex, as is an empty mask.
func BitNames(v uint32, names []string) string {
	var out []string
	for i, n := range names {
		if v&(1<<i) != 0 && n != "" {
			out = append(out, n)
			v &^= 1 << i
		}
	}
	if v != 0 || len(out) == 0 {
		out = append(out, "0x"+strconv.FormatUint(uint64(v), 16))
	}
	return strings.Join(out, ",")
}

// IfnameBytes encodes a device name as the kernel compares it for an exact
// match: IFNAMSIZ bytes, NUL padded. (A name is taken literally: vpnpass
// matches devices it was given, never nft's "eth*" prefix.)
func IfnameBytes(name string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return b
}

// IfnameString decodes a device name compared by a rule or held in a set.
// nft encodes `iifname "eth*"` as the bytes "eth" without a terminating NUL
// (the kernel then compares only those bytes: a prefix match), so a value
// with no NUL reads back as the prefix followed by '*'.
func IfnameString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i])
	}
	return string(b) + "*"
}
