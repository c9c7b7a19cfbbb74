#!/usr/bin/env bash
# Ours beside Debian's own tools on a MIPS CPU (benchmark; nothing here
# asserts a time). Boots the mipsel VM of build/vm/test-vm.sh (Debian's
# 4kc-malta kernel under qemu-system-mipsel -M malta) with Debian 12's mipsel
# nft and conntrack staged into its initramfs (build/vm/anchor-tools.sh,
# VPNPASS_VM_ANCHOR=1; the versions are in the log) and runs there the same
# Go benchmarks, cross-compiled (GOARCH=mipsle GOMIPS=softfloat), that the
# amd64 parts of test/bench-all.sh run:
#   toggle   netfilter/nft BenchmarkToggle vs BenchmarkNftReloadFW4 (`nft -f`
#            of the fw4 ruleset), as test/bench-toggle.sh
#   inspect  netfilter/nfteval BenchmarkInspect10k: Read + evaluate vs
#            `nft -j list ruleset` of 10k rules, CPU, as test/bench-inspect.sh
#   storm    test/e2e's BenchmarkStorm (test/bench-storm.sh) needs strongSwan,
#            iproute2 and a raw-socket generator the guest lacks; instead
#            test/pollcost's TestPollCost runs the release agent in a lab
#            router and creates and deletes N ordinary (non-VPN, port 53)
#            conntrack flows over ctnetlink while `conntrack -E` consumes the
#            same events (VPNPASS_POLL_CT_SRC=ordinary, VPNPASS_POLL_CT_ANCHOR=1):
#            CPU of both over the same window, as the storm compares them
#            (a burst as fast as ctnetlink takes it, not 10k flows/s of
#            packets; the agent's kernel filter keeps these flows out of it).
# Figures are emulated MIPS, not a router's: compare the ratios, not the
# times, with the amd64 rows (qemu-system's TCG costs differ per instruction
# mix, so the ratio is an indication, not a router measurement).
# Needs root (the VM). Usage: test/bench-vm-anchor.sh
# Run time: one VM boot; 7.5 min on a quiet 2-core host (nft 76 s, nfteval
# 48 s, pollcost ~4 min, plus the cross builds), ~18 min at a load average of 30.
# Environment: VPNPASS_VM_ANCHOR_BENCHTIME (-test.benchtime, default 5s:
#   the slow 10k-rule runs do one iteration, a toggle a dozen),
#   VPNPASS_VM_ANCHOR_FLOWS (ordinary flows of the burst, default 5000),
#   VPNPASS_VM_ANCHOR_TIMEOUT (-test.timeout per package, default 30m).
set -euo pipefail
cd "$(dirname "$0")/.."
logs=test/artifacts/bench-vm-anchor # the guest's console is kept there
flows=${VPNPASS_VM_ANCHOR_FLOWS:-5000}
mkdir -p "$logs"
# The agent runs with the init script's environment, as in test/bench-poll.sh.
initenv=$(sed -n 's/^[[:space:]]*procd_set_param env //p' openwrt/files/etc/init.d/vpnpass)
tdir=test/pollcost/testdata
trap 'rm -f "$tdir"/vpnpass-linux-*' EXIT
GOTOOLCHAIN=${CROSS_GO_TOOLCHAIN:-go1.23.12} CGO_ENABLED=0 GOOS=linux GOARCH=mipsle GOMIPS=softfloat \
	go build -trimpath -gcflags=all=-l -ldflags '-s -w' -o "$tdir/vpnpass-linux-mipsle" ./cmd/vpnpass
# Few polls, no steps: only the burst matters here. The agent settles 30 s: its
# start (doctor, first inspections) outlasts 5 s in an emulated guest, and the
# rest rate taken too early makes "above its rest rate" meaningless.
knobs="VPNPASS_BENCH_POLL=1 VPNPASS_POLL_N=3 VPNPASS_POLL_SETTLE_S=30 VPNPASS_POLL_IDLE_S=20 VPNPASS_POLL_STEPS=0"
knobs="$knobs VPNPASS_POLL_OBSERVE=1 VPNPASS_POLL_CT_FLOWS=$flows VPNPASS_POLL_CT_SRC=ordinary VPNPASS_POLL_CT_ANCHOR=1"
knobs="$knobs VPNPASS_POLL_AGENT_ENV=$(echo $initenv | tr ' ' ,)"
VPNPASS_VM_ANCHOR=1 VPNPASS_VM_PKGS="./netfilter/nft ./netfilter/nfteval ./test/pollcost" \
	VPNPASS_VM_RUN='^TestPollCost$' VPNPASS_VM_ENV="$knobs" \
	VPNPASS_VM_BENCH='^(BenchmarkToggle|BenchmarkNftReloadFW4|BenchmarkInspect10k)$' \
	VPNPASS_VM_BENCHTIME=${VPNPASS_VM_ANCHOR_BENCHTIME:-5s} VPNPASS_VM_TEST_TIMEOUT=${VPNPASS_VM_ANCHOR_TIMEOUT:-30m} \
	VPNPASS_VM_TIMEOUT=3600 VPNPASS_VM_LOGDIR=$logs build/vm/test-vm.sh mipsel >&2 || true
log=$logs/vm-mipsel.log
grep -a -E '^(Benchmark|POLLCOST-CT |--- (FAIL|SKIP)|VMTEST-(PKG|ERROR))|_test.go:[0-9]+:' "$log" >&2 || true
# The table: fixed labels ending in ", mipsel VM" that test/bench-all.sh
# reads (the k-th number after the label).
awk '
	# ns: the ns/op (field 3) or the value before the metric m of a line.
	function metric(m,    i) { for (i = 4; i < NF; i++) if ($(i + 1) == m) return $i; return "" }
	/^BenchmarkToggle\/netlink/      { tn = $3 }
	/^BenchmarkToggle\/include/      { ti = $3 }
	/^BenchmarkNftReloadFW4/         { tf = $3 }
	/^BenchmarkInspect10k\/ours/     { ow = $3; oc = metric("cpu-ns/op") }
	/^BenchmarkInspect10k\/nft-json/ { nw = $3; nc = metric("cpu-ns/op") }
	/^POLLCOST-CT / {
		for (i = 2; i <= NF; i++) { e = index($i, "="); f[substr($i, 1, e - 1)] = substr($i, e + 1) }
		ev = f["events"]; sw = f["wall_ms"]; sa = f["cpu_ms"]; se = f["anchor_cpu_ms"]; lost = f["anchor_enobufs"]
		net = f["us_per_event"] * ev / 1000 # the agent above its own rest rate
	}
	function r(a, b) { return (a && b) ? sprintf("%.2f", a / b) : "-" }
	function ms(v) { return v ? sprintf("%.1f", v / 1e6) : "-" }
	# line prints a row only when its figure is there: test/bench-all.sh
	# counts numbers after the label, and a "-" would shift them.
	function line(label, wall, cpu, ratio) {
		if (wall != "" && wall != "-") printf "%-52s %10s %10s %8s\n", label, wall, cpu, ratio
	}
	END {
		if (!tn && !ow && !ev) { print "benchmarks did not run in the mipsel VM (see the log above)"; exit 1 }
		printf "%-52s %10s %10s %8s\n", "mipsel VM (Debian 12 nft 1.0.6 beside ours)", "wall ms", "cpu ms", "ratio"
		line("nft -f fw4 ruleset, mipsel VM", ms(tf), "", "1.00")
		line("toggle ipsec, netlink only, mipsel VM", ms(tn), "", r(tn, tf))
		line("toggle ipsec, netlink + fw4 include, mipsel VM", ms(ti), "", r(ti, tf))
		if (nc) line("nft -j list ruleset 10k, mipsel VM", ms(nw), ms(nc), "1.00")
		if (oc) line("nfteval: Read + evaluate 10k, mipsel VM", ms(ow), ms(oc), r(oc, nc))
		if (se != "") line("storm: conntrack -E CPU, mipsel VM", sw, se, "1.00")
		if (sa != "") line("storm: agent CPU, mipsel VM", sw, sa, (se + 0 > 0) ? sprintf("%.2f", sa / se) : "-")
		if (sa != "") line("storm: agent CPU above its rest rate, mipsel VM", sw, sprintf("%.0f", net), (se + 0 > 0) ? sprintf("%.2f", net / se) : "-")
		if (ev) print "storm: " ev " conntrack events (NEW + DESTROY of " ev / 2 " ordinary flows); conntrack -E ENOBUFS warnings: " (lost != "" ? lost : "-")
		print "ratio: ours / anchor (toggle: wall, as test/bench-toggle.sh; inspect and storm: CPU)"
		print "storm CPU: utime+stime over the burst and 2 s after it (10 ms ticks), the agent at rest included"
	}' "$log"
