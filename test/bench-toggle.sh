#!/usr/bin/env bash
# Times a protocol toggle (one netfilter/nft Apply on the fw4 fixture, in a
# lab router namespace) against `nft -f` of the same fw4 ruleset in the same
# kind of namespace (what a fw4 reload does to the kernel), and prints both
# with their ratio. docs/design.md#budgets: toggle <= 10 ms and >= 5x faster.
# Needs root (network namespaces). Usage: test/bench-toggle.sh [benchtime]
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime=${1:-200x}
out=$(go test ./netfilter/nft/ -run '^$' -bench '^(BenchmarkToggle|BenchmarkNftReloadFW4)$' \
	-benchtime="$benchtime" -count=1)
echo "$out" | grep -E '^(Benchmark|ok|FAIL|---)' >&2 || true
echo "$out" | awk '
	/^BenchmarkToggle\/netlink/ { n = $3 }
	/^BenchmarkToggle\/include/ { i = $3 }
	/^BenchmarkNftReloadFW4/    { f = $3 }
	END {
		if (!n || !i || !f) { print "benchmarks did not run (root needed?)"; exit 1 }
		printf "%-40s %10s %8s\n", "operation", "ms/op", "x faster"
		printf "%-40s %10.3f %8s\n", "nft -f fw4 ruleset (fw4 reload)", f / 1e6, "1.0"
		printf "%-40s %10.3f %8.1f\n", "toggle ipsec, netlink only", n / 1e6, f / n
		printf "%-40s %10.3f %8.1f\n", "toggle ipsec, netlink + fw4 include", i / 1e6, f / i
	}'
