package nfteval

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
)

// benchRules is the size of the synthetic ruleset (docs/design.md#budgets:
// inspecting 10k rules takes at most half the time of `nft -j list ruleset`).
const benchRules = 10000

// syntheticRuleset renders an fw4-like table whose LAN forward chain holds
// n rules the footprint packets do not match, so every evaluation walks all
// of them before `accept_to_wan` decides: per-host accepts, anonymous sets
// (one per ten rules), interface drops and IPv6 prefixes.
func syntheticRuleset(n int) string {
	var b strings.Builder
	b.WriteString(`table inet bench {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state vmap { established : accept, related : accept }
		iifname "br-lan" jump forward_lan
		jump handle_reject
	}
	chain handle_reject { reject; }
	chain accept_to_wan { oifname "eth1" counter accept comment "to-wan"; }
	chain forward_lan {
`)
	for i := 0; i < n; i++ {
		a, c, port := i/256%256, i%256, 1024+i%50000
		switch i % 10 {
		case 0:
			fmt.Fprintf(&b, "\t\tip daddr 172.16.%d.%d udp dport { 53, 123, %d } counter accept comment \"svc %d\"\n", a, c, port, i)
		case 1, 2:
			fmt.Fprintf(&b, "\t\tiifname \"wg%d\" meta l4proto tcp counter drop\n", i%50)
		case 3:
			fmt.Fprintf(&b, "\t\tip6 saddr 2001:db8:%x::/64 tcp dport %d accept\n", i, port)
		default:
			fmt.Fprintf(&b, "\t\tip saddr 10.%d.%d.1 tcp dport %d counter accept comment \"host %d\"\n", a, c, port, i)
		}
	}
	b.WriteString("\t\tjump accept_to_wan\n\t}\n}\n")
	return b.String()
}

// footprints are the LAN→WAN packets of every protocol's footprint.
func footprints() []netfilter.Packet {
	var out []netfilter.Packet
	for _, p := range vpn.Toggled {
		for _, el := range vpn.Footprint(p) {
			out = append(out, lanToWAN(el.Family, el.L4, el.Port, "new"))
		}
	}
	return out
}

// BenchmarkInspect10k measures, on the same 10k-rule ruleset in one
// namespace, our Read plus the evaluation of every footprint packet
// ("ours") and `nft -j list ruleset` ("nft-json"). test/bench-inspect.sh
// prints the two side by side.
func BenchmarkInspect10k(b *testing.B) {
	ns := newNS(b)
	ns.load(b, syntheticRuleset(benchRules))
	packets := footprints()
	b.Run("ours", func(b *testing.B) {
		cpu := processCPU()
		for i := 0; i < b.N; i++ {
			rs, err := Read(ns.conn.NetNS)
			if err != nil {
				b.Fatal(err)
			}
			for _, p := range packets {
				chains, err := rs.Chains("forward", p.Family)
				if err != nil {
					b.Fatal(err)
				}
				if e := netfilter.EvaluateHook(chains, p); e.Verdict != netfilter.Accept || e.DecidedBy.Comment != "to-wan" {
					b.Fatalf("%+v: %s by %+v", p, e.Verdict, e.DecidedBy)
				}
			}
		}
		b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(len(packets)), "packets/op")
	})
	b.Run("nft-json", func(b *testing.B) {
		var cpu time.Duration
		for i := 0; i < b.N; i++ {
			cpu += ns.nftCPU(b, "-j", "list", "ruleset")
		}
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	})
}

// processCPU is the user+system time this process has used. On a shared
// machine CPU time compares more fairly than wall time (cpu-ns/op), though
// it also counts the runtime's own threads (GC).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
