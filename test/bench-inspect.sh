#!/usr/bin/env bash
# Times inspection of a synthetic 10k-rule ruleset: our nfteval.Read plus the
# evaluation of every footprint packet of pptp, l2tp and ipsec, against
# `nft -j list ruleset` of the same ruleset, in the same namespace and the
# same benchmark run. Prints wall and CPU time of both with their ratio.
# docs/design.md#budgets: ours <= 0.5 x nft. CPU time (user+system; ours includes
# the Go runtime's GC threads) is the steadier figure on a busy machine.
# Needs root (network namespaces). Usage: test/bench-inspect.sh [benchtime]
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime=${1:-10x}
out=$(go test ./netfilter/nfteval/ -run '^$' -bench '^BenchmarkInspect10k$' \
	-benchtime="$benchtime" -count=1)
echo "$out" | grep -E '^(Benchmark|ok|FAIL|---)' >&2 || true
echo "$out" | awk '
	/^BenchmarkInspect10k\/ours/     { ow = $3; for (i = 4; i < NF; i++) if ($(i+1) == "cpu-ns/op") oc = $i }
	/^BenchmarkInspect10k\/nft-json/ { nw = $3; for (i = 4; i < NF; i++) if ($(i+1) == "cpu-ns/op") nc = $i }
	END {
		if (!ow || !nw) { print "benchmarks did not run (root needed?)"; exit 1 }
		printf "%-46s %10s %10s\n", "10k rules, 13 footprint packets", "wall ms", "cpu ms"
		printf "%-46s %10.1f %10.1f\n", "nft -j list ruleset", nw / 1e6, nc / 1e6
		printf "%-46s %10.1f %10.1f\n", "nfteval: Read + evaluate all footprints", ow / 1e6, oc / 1e6
		printf "%-46s %10.2f %10.2f\n", "ratio ours / nft (budget <= 0.50)", ow / nw, oc / nc
	}'
