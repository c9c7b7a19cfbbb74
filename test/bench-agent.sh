#!/usr/bin/env bash
# Measures the running agent against docs/design.md#budgets and prints a table
# (benchmarks only; nothing here asserts a time):
#  - idle RSS: VmRSS from /proc/<pid>/status of `vpnpass agent` in a lab fw4
#    router, 5 s after its start, for the host build made like the package's
#    (build/cross.sh: CGO_ENABLED=0, -trimpath, -gcflags=all=-l, -s -w, Go
#    1.23 through GOTOOLCHAIN or $CROSS_GO_TOOLCHAIN; VPNPASS_BENCH_SMAPS=<dir>
#    keeps its smaps, status and runtime/metrics at that moment, from the
#    test hooks' build); without GOMEMLIMIT and with the
#    init script's environment (GOMEMLIMIT=10MiB GOGC=50; DESIGN: <= 8 MiB
#    idle under it);
#  - peak RSS (VmHWM) with an empty and a 65k-entry conntrack table through
#    the agent's start, two mode changes, a doctor and an overrun's resync,
#    under the init script's GOMEMLIMIT (TestLifeBigConntrack's steps);
#  - history append rate through the daemon: the vpnpass_testhooks flood
#    appends through the daemon's own record path as fast as the store takes
#    them, and at 10k/s, under the default 512 KiB cap (pruning and
#    compaction included), with the RSS under that load and the file size;
#  - the last 100 events: API round trip on an open connection, the CLI as
#    a process (`vpnpass history --limit 100 --json`), the API handler alone,
#    and agent/history's Query / QueryJSON.
# Needs root (network namespaces). Usage: test/bench-agent.sh [--cap1m]
# (--cap1m adds agent/history's 1M-events-under-512-KiB benchmark, ~1 min).
set -euo pipefail
cd "$(dirname "$0")/.."
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

# run keeps going when a benchmark fails: the table says what is missing, the
# failure's own lines (file.go:N: ...) are shown above it.
run() {
	local out
	out=$(go test "$@" -run '^$' -count=1 2>&1) || true
	printf '%s\n' "$out" | grep -E '^(Benchmark|ok|FAIL|---|panic|\s+[a-z_]+\.go:[0-9]+:)' | tee -a "$raw" >&2 || true
}
run ./test/e2e/ -bench '^BenchmarkAgent'
run ./agent/ -bench '^BenchmarkHistoryHandlerLast100$'
run ./agent/history/ -bench '^(BenchmarkAppend|BenchmarkQueryLast100|BenchmarkQueryJSONLast100)$'
if [ "${1:-}" = --cap1m ]; then
	run ./agent/history/ -bench '^BenchmarkCap1M$' -benchtime=1x
fi

awk '
	/^Benchmark/ {
		name = $1
		sub(/-[0-9]+$/, "", name)
		for (i = 3; i < NF; i += 2) m[name "|" $(i + 1)] = $i
	}
	function row(what, key, scale, unit, fmt, budget,    v) {
		if (!(key in m)) { printf "%-58s %12s %s\n", what, "(not run)", budget; missing++; return }
		v = m[key] * scale
		printf "%-58s %12s %s\n", what, sprintf(fmt, v) " " unit, budget
	}
	END {
		printf "%-58s %12s %s\n", "measurement (amd64 host)", "measured", "budget (docs/design.md)"
		row("idle RSS 5 s after start, no GOMEMLIMIT", "BenchmarkAgentIdleRSS/no-GOMEMLIMIT|RSS-MiB", 1, "MiB", "%.1f", "(information)")
		row("idle RSS 5 s after start, init script env", "BenchmarkAgentIdleRSS/init-script|RSS-MiB", 1, "MiB", "%.1f", "<= 8 MiB")
		row("  anon pages (heap, stacks), init script env", "BenchmarkAgentIdleRSS/init-script|anon-MiB", 1, "MiB", "%.1f", "(information)")
		row("  file pages (the binary), init script env", "BenchmarkAgentIdleRSS/init-script|file-MiB", 1, "MiB", "%.1f", "(information)")
		row("peak RSS, empty conntrack table (start, set, doctor, resync)", "BenchmarkAgentBigConntrack/0|peak-RSS-MiB", 1, "MiB", "%.1f", "(information)")
		row("peak RSS, 65k conntrack entries (start, set, doctor, resync)", "BenchmarkAgentBigConntrack/65536|peak-RSS-MiB", 1, "MiB", "%.1f", "<= 16 MiB")
		row("append through the daemon, as fast as it goes", "BenchmarkAgentHistoryAppend/max|events/s", 1, "ev/s", "%.0f", ">= 10000 ev/s")
		row("  RSS during that flood", "BenchmarkAgentHistoryAppend/max|RSS-MiB", 1, "MiB", "%.1f", "<= 16 MiB (peak)")
		row("  history file after it (512 KiB cap)", "BenchmarkAgentHistoryAppend/max|file-KiB", 1, "KiB", "%.0f", "<= 512 KiB")
		row("append through the daemon, 10k/s asked", "BenchmarkAgentHistoryAppend/10k|events/s", 1, "ev/s", "%.0f", "keeps up")
		row("  RSS during it", "BenchmarkAgentHistoryAppend/10k|RSS-MiB", 1, "MiB", "%.1f", "<= 16 MiB (peak)")
		row("store append (agent/history, batched)", "BenchmarkAppend|events/s", 1, "ev/s", "%.0f", ">= 10000 ev/s")
		row("last 100: API round trip, open connection", "BenchmarkAgentHistoryLast100/api|ns/op", 1e-6, "ms", "%.3f", "<= 1 ms")
		row("last 100: vpnpass history --limit 100 --json (process)", "BenchmarkAgentHistoryLast100/cli|ns/op", 1e-6, "ms", "%.3f", "(process start)")
		row("last 100: API handler + encoding, no socket", "BenchmarkHistoryHandlerLast100|ns/op", 1e-6, "ms", "%.3f", "<= 1 ms")
		row("last 100: store Query (decoded events)", "BenchmarkQueryLast100|ns/op", 1e-6, "ms", "%.3f", "<= 1 ms")
		row("last 100: store QueryJSON (what the API serves)", "BenchmarkQueryJSONLast100|ns/op", 1e-6, "ms", "%.3f", "<= 1 ms")
		if ("BenchmarkCap1M|max-file-bytes" in m) {
			row("1M events under a 512 KiB cap: largest file", "BenchmarkCap1M|max-file-bytes", 1 / 1024, "KiB", "%.0f", "<= 512 KiB")
			row("  append rate meanwhile", "BenchmarkCap1M|events/s", 1, "ev/s", "%.0f", ">= 10000 ev/s")
		}
		if (missing) { print "some benchmarks did not run (root needed? see the output above)"; exit 1 }
	}' "$raw"
