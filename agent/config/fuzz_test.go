package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/openwrt/uci"
	"github.com/vpnpass/vpnpass/vpn"
)

// FuzzLoad: a hand-edited /etc/config/vpnpass that uci can parse always
// loads: unknown sections and options and invalid values become problems
// naming a line, never an error, and the result passes its own checks
// (history bounds within their ranges, every mode valid).
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.uci")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("config agent 'main'\n\toption future_option 'x'\n\tlist lan_device 'br-lan'\nconfig newsection\n\toption a b\n"))
	f.Add([]byte("config passthrough 'pptp'\n\toption mode 'allow'\n\toption schedule 'night'\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		tree, err := uci.Parse(src)
		if err != nil {
			return
		}
		l := &loader{path: "/etc/config/vpnpass", last: Defaults(), cfg: Defaults()}
		l.load(tree)
		for _, p := range l.problems {
			if p.Message == "" || p.File == "" || p.String() == "" {
				t.Fatalf("problem without text: %+v", p)
			}
		}
		c := l.cfg
		if c.HistoryMaxKB <= 0 || c.HistoryMaxDays <= 0 || c.HistoryPersistHours < 0 {
			t.Fatalf("history bounds out of range: %+v", c)
		}
		for proto, m := range c.Modes {
			if _, err := vpn.ParseProtocol(string(proto)); err != nil {
				t.Fatalf("protocol %q: %v", proto, err)
			}
			if _, err := netfilter.ParseMode(string(m)); err != nil {
				t.Fatalf("mode %v=%v", proto, m)
			}
		}
		_ = c.Desired()
	})
}
