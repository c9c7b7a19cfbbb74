package nftwire

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/test/lab"
)

// wireRuleset has every expression the fast path decodes, and rules the
// library's GetRules cannot read (`ct original ...`).
const wireRuleset = `table inet w {
	set servers { type ipv4_addr; flags interval; elements = { 203.0.113.0/24 } }
	map ports { type inet_service : verdict; elements = { 1701 : jump side, 500 : accept } }
	chain side { counter; }
	chain filter_fwd { type filter hook forward priority 0; policy drop;
		ct state established,related accept
		meta l4proto tcp ct original proto-dst 1723 accept
		ct original ip saddr 192.0.2.1 drop
		ct direction reply counter accept
		iifname "eth*" oifname "br-lan" accept
		ip saddr 192.168.1.0/24 udp dport != { 500, 4500 } counter accept
		ip daddr @servers tcp dport 1000-2000 accept
		udp dport vmap @ports
		meta mark set 0x10 ct mark set meta mark
		ipsec in reqid 1 counter
		goto side
	}
}
`

// loadNS makes a throw-away network namespace holding ruleset and returns
// a netfilter netlink connection into it.
func loadNS(t *testing.T, ruleset string) *netlink.Conn {
	t.Helper()
	lab.Require(t)
	lab.RequireBinaries(t, "nft")
	f := filepath.Join(t.TempDir(), "ruleset.nft")
	if err := os.WriteFile(f, []byte(ruleset), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var h netns.NsHandle
	var out []byte
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies in the new namespace
		var err error
		if h, err = netns.New(); err == nil {
			out, err = exec.Command("nft", "-f", f).CombinedOutput()
		}
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatalf("namespace with ruleset: %v\n%s", err, out)
	}
	t.Cleanup(func() { h.Close() })
	lastNS = int(h)
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: int(h)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// eachExpr hands fn the family, name and data of every expression of every
// rule in the namespace.
func eachExpr(t *testing.T, c *netlink.Conn, fn func(fam byte, name string, data []byte)) {
	t.Helper()
	msgs, err := c.Execute(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETRULE),
			Flags: netlink.Request | netlink.Dump},
		Data: []byte{unix.AF_UNSPEC, unix.NFNETLINK_V0, 0, 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		err := EachAttr(m.Data[4:], func(typ uint16, v []byte) error {
			if typ != unix.NFTA_RULE_EXPRESSIONS {
				return nil
			}
			return EachAttr(v, func(_ uint16, elem []byte) error {
				name, data := rawExpr(elem)
				fn(m.Data[0], name, data)
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestFastDecode decodes every expression of a real dump both with our fast
// path and with expr.Unmarshal, and requires the same result wherever the
// library decodes the expression at all.
func TestFastDecode(t *testing.T) {
	c := loadNS(t, wireRuleset)
	compared := map[string]int{}
	eachExpr(t, c, func(fam byte, name string, data []byte) {
		fast, ok := fastDecode(name, data)
		if !ok {
			return
		}
		slow := slowDecode(fam, name, data)
		if _, opaque := slow.(*Opaque); opaque {
			return // the library cannot decode it: nothing to compare
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s: fast %#v, library %#v", name, fast, slow)
		}
		compared[name]++
	})
	for _, name := range []string{"cmp", "payload", "meta", "immediate", "counter", "lookup", "bitwise", "ct"} {
		if compared[name] == 0 {
			t.Errorf("no %s expression compared (%v)", name, compared)
		}
	}
}

func rawExpr(elem []byte) (name string, data []byte) {
	_ = EachAttr(elem, func(typ uint16, v []byte) error {
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
