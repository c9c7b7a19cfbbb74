package ipt

import (
	"github.com/vpnpass/vpnpass/vpn"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/test/lab"
)

// BenchmarkPlan: one drift check (what the agent's iptables poll costs)
// with every protocol allowed, IPv4 and IPv6.
func BenchmarkPlan(b *testing.B) {
	for _, v := range Variants {
		b.Run(v, func(b *testing.B) {
			l := lab.New(b, lab.Config{Firewalls: []lab.Firewall{dropFirewall(v)}, IPv6: true})
			all := netfilter.Desired{vpn.PPTP: netfilter.ModeAllow, vpn.L2TP: netfilter.ModeAllow, vpn.IPsec: netfilter.ModeAllow}
			err := l.Router.Do(func() error {
				be, err := New(Options{Variant: v, LANDevices: []string{lab.LANDevice}, WAN: netfilter.OneWAN(l.WANDevice)})
				if err != nil {
					return err
				}
				if _, err := be.Apply(all); err != nil {
					return err
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if ch, err := be.Plan(all); err != nil || len(ch) != 0 {
						b.Fatalf("plan: %v %v", ch, err)
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkToggle: one protocol from default to allow and back (apply,
// read back, both families).
func BenchmarkToggle(b *testing.B) {
	for _, v := range Variants {
		b.Run(v, func(b *testing.B) {
			l := lab.New(b, lab.Config{Firewalls: []lab.Firewall{dropFirewall(v)}, IPv6: true})
			err := l.Router.Do(func() error {
				be, err := New(Options{Variant: v, LANDevices: []string{lab.LANDevice}, WAN: netfilter.OneWAN(l.WANDevice)})
				if err != nil {
					return err
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for _, d := range []netfilter.Desired{{vpn.L2TP: netfilter.ModeAllow}, {}} {
						if _, err := be.Apply(d); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}
