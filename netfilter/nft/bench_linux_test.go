package nft

import (
	"testing"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/test/lab"
)

// BenchmarkToggle times one Apply flipping ipsec between allow and default
// on the fw4 fixture, inside the lab router: read back, plan, one netlink
// batch. "netlink" is fw4 with auto_includes 0 (no file); "include" also
// rewrites or removes the fw4 include file (nft -c runs once per distinct
// text, then is remembered).
func BenchmarkToggle(b *testing.B) {
	for _, bc := range []struct {
		name         string
		autoIncludes bool
	}{{"netlink", false}, {"include", true}} {
		b.Run(bc.name, func(b *testing.B) {
			r := newRig(b, rigConfig{lab: lab.Config{Firewalls: []lab.Firewall{lab.FW4}}, kind: netfilter.KindFW4, autoIncludes: bc.autoIncludes, tmpfsRoot: true})
			states := []netfilter.Desired{{vpn.IPsec: netfilter.ModeAllow}, {}}
			r.apply(states[0]) // warm: nft -c of this text, lazily built caches
			r.apply(states[1])
			err := r.inRouter(func() error {
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					ch, err := r.b.Apply(states[i%2])
					if err != nil {
						return err
					}
					if len(ch) == 0 {
						b.Fatal("toggle changed nothing")
					}
				}
				b.StopTimer()
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkNftReloadFW4 times `nft -f` of the rendered fw4 fixture in the
// same kind of router namespace: the kernel side of a `fw4 reload` (fw4
// itself also spends time rendering the text, not counted here).
func BenchmarkNftReloadFW4(b *testing.B) {
	r := newRig(b, rigConfig{lab: lab.Config{Firewalls: []lab.Firewall{lab.FW4}}, kind: netfilter.KindFW4})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := r.l.ReloadFW4(); err != nil {
			b.Fatal(err)
		}
	}
}
