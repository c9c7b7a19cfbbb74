#!/usr/bin/env bash
# `make bench`: every benchmark of vpnpass in one run, one table at the end with
# the anchor beside each figure (the tool or floor it is compared with), the
# ratio ours/anchor and the budget of docs/design.md. Measurements only:
# nothing here asserts a time. The scripts it runs print their own detailed
# tables; their full outputs are kept in test/artifacts/bench/.
#   size   test/bench-size.sh     linux/mips release build vs the five-library floor
#   toggle test/bench-toggle.sh   one protocol toggle vs `nft -f` of the fw4 ruleset
#   inspect test/bench-inspect.sh nfteval vs `nft -j list ruleset` (10k rules)
#   storm  test/bench-storm.sh    the agent vs `conntrack -E` under a conntrack storm
#   agent  test/bench-agent.sh    idle RSS (init script's GOMEMLIMIT), peak RSS with
#                                 65k conntrack entries, history rates
#   poll   test/bench-poll.sh     one LuCI poll: host and the big-endian MIPS VM; the
#                                 agent at rest there (RSS anon/file, wake-ups, CPU per
#                                 judging tick, GC share), CPU per conntrack VPN event,
#                                 the plugin process's peak RSS
#   vm-anchor test/bench-vm-anchor.sh the mipsel VM with Debian's own nft and
#                                 conntrack: toggle, inspect and a conntrack
#                                 burst, ours beside the anchor on a MIPS CPU
# Needs root (network namespaces, the VM). Usage: test/bench-all.sh [part...]
# (default: all parts; e.g. `test/bench-all.sh size poll`).
set -uo pipefail
cd "$(dirname "$0")/.." || exit
parts=("$@")
[ "${#parts[@]}" -gt 0 ] || parts=(size toggle inspect storm agent poll vm-anchor)
logs=${BENCH_LOGS:-test/artifacts/bench}
mkdir -p "$logs"

# BENCH_TABLE_ONLY=1 prints the table from the logs of the last run.
[ -n "${BENCH_TABLE_ONLY:-}" ] && parts=()
for p in "${parts[@]}"; do
	echo "== $p" >&2
	case $p in
	size) SIZE_ONLY=1 SIZE_RAW="$logs/size.raw" test/bench-size.sh >"$logs/size.log" 2>&1 ;;
	poll) test/bench-poll.sh host mips >"$logs/poll.log" 2>&1 ;;
	toggle | inspect | storm | agent | vm-anchor) "test/bench-$p.sh" >"$logs/$p.log" 2>&1 ;;
	*) echo "unknown part $p" >&2; exit 2 ;;
	esac || echo "$p: failed, see $logs/$p.log" >&2
	tail -n 25 "$logs/$p.log" >&2
done

# One table from the logs (a missing log or row prints "-").
awk -v logs="$logs" '
	# num: the k-th number after the label pat on the first line matching it
	# (tokens split at space, | and /; a trailing % is dropped).
	function num(file, pat, k,    line, f, n, i, c) {
		while ((getline line < file) > 0) {
			if (!match(line, pat)) continue
			# a part that did not measure says so: no figure (not the budget)
			if (index(line, "(not run)")) { close(file); return "" }
			n = split(substr(line, RSTART + RLENGTH), f, /[ \t|\/]+/)
			for (i = 1; i <= n; i++) {
				if (f[i] !~ /^-?[0-9]+(\.[0-9]+)?%?$/) continue
				if (++c == k) { close(file); sub(/%$/, "", f[i]); return f[i] }
			}
		}
		close(file)
		return ""
	}
	function kv(file, label, key,    line, i, f, n, kvp) {
		while ((getline line < file) > 0) {
			if (index(line, "label=" label " ") == 0) continue
			n = split(line, f, " ")
			for (i = 1; i <= n; i++) { split(f[i], kvp, "="); if (kvp[1] == key) { close(file); return kvp[2] } }
		}
		close(file)
		return ""
	}
	# noratio: the anchor column holds a second figure, not a comparison.
	function row(what, ours, unit, anchor, aval, budget, noratio,    r) {
		r = (!noratio && ours != "" && aval != "" && aval + 0 != 0) ? sprintf("%.2f", ours / aval) : "-"
		printf "%-44s %10s %-5s | %-26s %10s | %6s | %s\n", what, ours == "" ? "-" : ours, unit, anchor, aval == "" ? "-" : aval, r, budget
	}
	function mib(b) { return b == "" ? "" : sprintf("%.2f", b / 1048576) }
	BEGIN {
		printf "%-44s %10s %-5s | %-26s %10s | %6s | %s\n", "figure", "ours", "unit", "anchor", "anchor", "ratio", "budget"
		s = logs "/size.raw"; o = "vpnpass_-gcflags=all=-l_(go1.23.12)"; fl = "floor_(go1.23.12)"
		row("mips release: stripped", mib(kv(s, o, "stripped")), "MiB", "five-library floor", mib(kv(s, fl, "stripped")), "<= 4.50 MiB")
		row("mips release: gzip -9 (ipk)", mib(kv(s, o, "gzip")), "MiB", "five-library floor", mib(kv(s, fl, "gzip")), "<= 1.40 MiB")
		row("mips release: on JFFS2 (overlay)", mib(kv(s, o, "jffs2")), "MiB", "five-library floor", mib(kv(s, fl, "jffs2")), "<= 1.90 MiB")
		row("mips release: xz -9e (squashfs)", mib(kv(s, o, "xz")), "MiB", "five-library floor", mib(kv(s, fl, "xz")), "<= 1.10 MiB")
		t = logs "/toggle.log"
		row("toggle ipsec (netlink only)", num(t, "^toggle ipsec, netlink only", 1), "ms", "nft -f fw4 ruleset", num(t, "^nft -f fw4 ruleset", 1), "<= 10 ms, ratio <= 0.2")
		i = logs "/inspect.log"
		row("inspect 10k rules (CPU)", num(i, "^nfteval: Read [^0-9]*", 2), "ms", "nft -j list ruleset (CPU)", num(i, "^nft -j list ruleset", 2), "ratio <= 0.50")
		st = logs "/storm.log"
		row("storm: agent CPU", num(st, "^agent CPU [(]utime[+]stime[)]", 1), "ms", "conntrack -E CPU", num(st, "^conntrack -E CPU [(]utime[+]stime[)]", 1), "ratio <= 0.5")
		row("storm: agent RSS", num(st, "^agent RSS under the storm", 1), "MiB", "", "", "<= 16 MiB")
		a = logs "/agent.log"
		row("RSS 5 s after start, init env (agent)", num(a, "^idle RSS 5 s after start, init script env", 1), "MiB", "", "", "<= 8 MiB")
		row("  anon pages (heap, stacks)", num(a, "^  anon pages [(]heap, stacks[)], init script env", 1), "MiB", "", "", "")
		row("  file pages (the binary)", num(a, "^  file pages [(]the binary[)], init script env", 1), "MiB", "", "", "")
		row("peak RSS: start, set, doctor, 65k conntrack", num(a, "^peak RSS, 65k conntrack entries", 1), "MiB", "same, empty table", num(a, "^peak RSS, empty conntrack table", 1), "<= 16 MiB")
		row("history append through the daemon", num(a, "^append through the daemon, as fast as it goes", 1), "ev/s", "", "", ">= 10000 ev/s")
		row("last 100 events, API round trip", num(a, "^last 100: API round trip, open connection", 1), "ms", "", "", "<= 1 ms")
		# The same comparisons on a MIPS CPU (test/bench-vm-anchor.sh: the
		# mipsel VM, nft and conntrack of Debian 12; a burst of ordinary
		# conntrack flows instead of the storm, see there).
		v = logs "/vm-anchor.log"
		row("toggle ipsec (netlink only), mipsel VM", num(v, "^toggle ipsec, netlink only, mipsel VM", 1), "ms", "nft -f fw4 ruleset", num(v, "^nft -f fw4 ruleset, mipsel VM", 1), "ratio <= 0.2")
		row("inspect 10k rules (CPU), mipsel VM", num(v, "^nfteval: Read [+] evaluate 10k, mipsel VM", 2), "ms", "nft -j list ruleset (CPU)", num(v, "^nft -j list ruleset 10k, mipsel VM", 2), "ratio <= 0.50")
		row("conntrack burst: agent CPU, mipsel VM", num(v, "^storm: agent CPU, mipsel VM", 2), "ms", "conntrack -E CPU", num(v, "^storm: conntrack -E CPU, mipsel VM", 2), "ratio <= 0.5")
		p = logs "/poll.log"
		row("LuCI poll, amd64: plugin CPU (median)", num(p, "^host ", 2), "ms", "", "", "")
		row("LuCI poll, amd64: total CPU, % of 10 s", num(p, "^host ", 9), "%", "", "", "")
		row("LuCI poll, MIPS VM: plugin CPU (median)", num(p, "^mips ", 2), "ms", "", "", "")
		row("LuCI poll, MIPS VM: plugin wall (median)", num(p, "^mips ", 4), "ms", "", "", "")
		row("LuCI poll, MIPS VM: agent CPU per poll", num(p, "^mips ", 6), "ms", "", "", "")
		row("LuCI poll, MIPS VM: total CPU, % of 10 s", num(p, "^mips ", 9), "%", "", "", "")
		# The agent at rest and under a burst of VPN conntrack events, and the
		# plugin process (test/bench-poll.sh; nftables-drop, observe=1).
		for (k = 0; k < 2; k++) {
			tg = k ? "mips" : "host"; nm = k ? "MIPS VM" : "amd64"
			ip = "^idle " tg " nftables-drop obs=1:"; cp = "^ct " tg " nftables-drop obs=1:"
			row("idle RSS, " nm ", init env (poll lab)", num(p, ip, 1), "MiB", "", "", "<= 8 MiB")
			row("  anon pages (heap, stacks), " nm, num(p, ip, 2), "MiB", "", "", "")
			row("  file pages (the binary), " nm, num(p, ip, 3), "MiB", "", "", "")
			row("  wake-ups/min at rest, " nm, num(p, ip, 4), "/min", "observe=0", num(p, "^idle " tg " nftables-drop obs=0:", 4), "")
			row("  CPU per judging tick (upper), " nm, num(p, ip, 5), "ms", "", "", "")
			row("  GC share of agent CPU at rest, " nm, num(p, ip, 6), "%", "without idle workers", num(p, ip, 7), "", 1)
			row("CPU per conntrack VPN event, " nm, num(p, cp, 2), "us", "", "", "")
			row("  GC share of agent CPU in it, " nm, num(p, cp, 3), "%", "without idle workers", num(p, cp, 4), "", 1)
			row("rpcd plugin process peak RSS, " nm, num(p, "^cli " tg " nftables-drop obs=1 release:", 1), "MiB", "", "", "")
		}
	}'
