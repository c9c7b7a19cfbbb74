package nfteval

import (
	"reflect"
	"testing"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// TestFastDecode decodes every expression of real dumps (fw4, the read
// and semantics rulesets, a synthetic one) both with our fast path and
// with expr.Unmarshal, and requires the same result wherever the library
// decodes the expression at all.
func TestFastDecode(t *testing.T) {
	ns := newNS(t)
	ns.load(t, fw4Ruleset(t, false))
	ns.load(t, readRuleset)
	ns.load(t, base("drop", `ip saddr 192.168.1.0/24 udp dport != { 500, 4500 } counter accept`,
		`ct state new,established tcp dport 1000-2000 accept`, `udp dport vmap @ports`))
	ns.load(t, syntheticRuleset(200))
	w, err := openWire(ns.conn.NetNS)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	compared := map[string]int{}
	err = w.request(unix.NFT_MSG_GETRULE, unix.AF_UNSPEC, nil, false, func(m netlink.Message) error {
		return eachAttr(m.Data[4:], func(typ uint16, v []byte) error {
			if typ != unix.NFTA_RULE_EXPRESSIONS {
				return nil
			}
			return eachAttr(v, func(_ uint16, elem []byte) error {
				name, data := rawExpr(elem)
				fast, ok := fastDecode(name, data)
				if !ok {
					return nil
				}
				slow := slowDecode(m.Data[0], name, data)
				if _, opaque := slow.(*Opaque); opaque {
					return nil // the library cannot decode it: nothing to compare
				}
				if !reflect.DeepEqual(fast, slow) {
					t.Errorf("%s: fast %#v, library %#v", name, fast, slow)
				}
				compared[name]++
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cmp", "payload", "meta", "immediate", "counter", "lookup", "bitwise", "ct"} {
		if compared[name] == 0 {
			t.Errorf("no %s expression compared (%v)", name, compared)
		}
	}
}

func rawExpr(elem []byte) (name string, data []byte) {
	_ = eachAttr(elem, func(typ uint16, v []byte) error {
		switch typ {
		case unix.NFTA_EXPR_NAME:
			name = exprNameString(v)
		case unix.NFTA_EXPR_DATA:
			data = v
		}
		return nil
	})
	return name, data
}
