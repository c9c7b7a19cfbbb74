package fw

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter/nfteval"
	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/test/truth"
)

// BenchmarkEvaluateRuleset: the inspection's evaluation (prerouting and
// forward, arbitrary host, exceptions) of a read ruleset, for fw4's default
// and for a ruleset whose rules single hosts out (each host value costs an
// evaluation per element).
func BenchmarkEvaluateRuleset(b *testing.B) {
	lab.Require(b)
	l := lab.New(b, lab.Config{Topology: lab.Single})
	for _, name := range []string{"01-default", "17-host-allow", "22-ipset-src"} {
		text, err := os.ReadFile(filepath.Join(corpusDir, name+".nft"))
		if err != nil {
			b.Fatal(err)
		}
		s := strings.ReplaceAll(string(text), `"/etc/nftables.d/*.nft"`, fmt.Sprintf("%q", filepath.Join(b.TempDir(), "*.nft")))
		if _, err := l.Router.Run("nft", "flush", "ruleset"); err != nil {
			b.Fatal(err)
		}
		if err := truth.LoadText(b, l.Router, s); err != nil {
			b.Fatal(err)
		}
		rs, err := nfteval.Read(l.Router.Fd())
		if err != nil {
			b.Fatal(err)
		}
		o := InspectOptions{LANDevices: []string{"br-lan"}, WANDevice: "eth1", LANPrefixes: []netip.Prefix{lab.LANPrefix, lab.LANPrefix6}}
		fwd, err := nftChains(rs, "forward")
		if err != nil {
			b.Fatal(err)
		}
		// forward-only is the inspection as it was: forward chains, no
		// host, no exceptions.
		b.Run(name+"/forward-only", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				evaluateProtocols(fwd, o)
			}
		})
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := EvaluateRuleset(rs, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
