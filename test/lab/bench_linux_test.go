package lab

import "testing"

// BenchmarkBuild measures building and removing a lab (for the notes: the
// lab's cost per test).
func BenchmarkBuild(b *testing.B) {
	Require(b)
	for _, cfg := range []struct {
		name string
		cfg  Config
	}{
		{"single", Config{Topology: Single}},
		{"double-fw4-ipv6", Config{Topology: Double, Firewalls: []Firewall{FW4}, IPv6: true}},
	} {
		b.Run(cfg.name, func(b *testing.B) {
			RequireTools(b, cfg.cfg.Firewalls...)
			for i := 0; i < b.N; i++ {
				l, err := Build(cfg.cfg)
				if err != nil {
					b.Fatal(err)
				}
				if err := l.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
