#!/usr/bin/env bash
# CPU per LuCI poll (benchmark; nothing here asserts a time). The LuCI page
# calls ubus `vpnpass status` every 10 s; rpcd starts `vpnpass rpcd call
# status`, a fresh Go process that asks the running agent over its socket.
# test/pollcost's TestPollCost runs a real agent in a test/lab router and
# times that process (user+sys from wait4's rusage, wall) and the agent's own
# extra CPU per poll, on the host and inside the VMs of build/vm/test-vm.sh
# (the big-endian MIPS kernel is the router case; mipsel is optional).
# Also, per run: the agent at rest under the init script's GOMEMLIMIT (RSS,
# anon and file pages, wake-ups per minute, CPU per judging tick, the GC's
# share of its CPU from GODEBUG=gctrace=1), its CPU per conntrack VPN event,
# and the plugin process's peak RSS (traced to its exit: wait4 cannot say).
# Binaries: the release build (CGO_ENABLED=0, -trimpath, -gcflags=all=-l,
# stripped, Go $CROSS_GO_TOOLCHAIN like build/cross.sh), put into
# test/pollcost/testdata for the run (the initramfs copies testdata), and
# the test binary re-executed as the CLI for comparison.
# Usage: sudo test/bench-poll.sh [host] [mips] [mipsel]   (default: host mips)
# Environment: VPNPASS_POLL_N (polls per client, default 30),
#   VPNPASS_POLL_INTERVAL_MS (default 500), VPNPASS_POLL_SETTLE_S (default 5),
#   VPNPASS_POLL_OBSERVE (the agent's observe option per run, default 1,0),
#   VPNPASS_POLL_IDLE_S (the agent at rest: RSS anon/file, wake-ups, CPU per
#   judging tick, GC share; default 60), VPNPASS_POLL_CT_FLOWS (VPN conntrack
#   flows created and deleted: CPU per event, default 2000),
#   VPNPASS_POLL_STEPS (0: skip timing the status steps alone),
#   VPNPASS_POLL_FIREWALLS_HOST (default nftables-drop,fw4; the VMs have no
#   nft, so they build nftables-drop over netlink), CROSS_GO_TOOLCHAIN,
#   VPNPASS_POLL_REV (measure that git revision's release build instead).
#   VPNPASS_POLL_CT_SRC (wan: the burst comes from outside the LAN, inbound
#   attempts judged one finding each), VPNPASS_POLL_GODEBUG (runtime checks
#   added to the agent's gctrace=1, e.g. gccheckmark=1,clobberfree=1).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(host mips)
n=${VPNPASS_POLL_N:-30} interval=${VPNPASS_POLL_INTERVAL_MS:-500} settle=${VPNPASS_POLL_SETTLE_S:-5}
observe=${VPNPASS_POLL_OBSERVE:-1,0} idle=${VPNPASS_POLL_IDLE_S:-60} flows=${VPNPASS_POLL_CT_FLOWS:-2000}
# The agent runs with the environment the init script ships (GOMEMLIMIT...:
# one definition), the words of its `procd_set_param env` line, passed
# comma-separated (the knobs are split at spaces on the way into the VM).
initenv=$(sed -n 's/^[[:space:]]*procd_set_param env //p' openwrt/files/etc/init.d/vpnpass)
case $initenv in *GOMEMLIMIT=*) ;; *) echo "the init script sets no GOMEMLIMIT" >&2; exit 1 ;; esac
knobs="VPNPASS_BENCH_POLL=1 VPNPASS_POLL_N=$n VPNPASS_POLL_INTERVAL_MS=$interval VPNPASS_POLL_SETTLE_S=$settle VPNPASS_POLL_OBSERVE=$observe"
knobs="$knobs VPNPASS_POLL_IDLE_S=$idle VPNPASS_POLL_CT_FLOWS=$flows VPNPASS_POLL_STEPS=${VPNPASS_POLL_STEPS:-1} VPNPASS_POLL_AGENT_ENV=$(echo $initenv | tr ' ' ,)"
knobs="$knobs VPNPASS_POLL_CT_SRC=${VPNPASS_POLL_CT_SRC:-lan} VPNPASS_POLL_GODEBUG=${VPNPASS_POLL_GODEBUG:-}"
tdir=test/pollcost/testdata
src=. raw=$(mktemp) logs=test/artifacts/bench-poll # the full outputs are kept there
mkdir -p "$logs"
trap 'rm -rf "$raw" "$tdir"/vpnpass-linux-*; [ "$src" = . ] || rm -rf "$src"' EXIT

# VPNPASS_POLL_REV=<git revision> measures that revision's release build with
# this tree's harness (a before/after on the same run of the scripts).
if [ -n "${VPNPASS_POLL_REV:-}" ]; then
	src=$(mktemp -d)
	git archive "$VPNPASS_POLL_REV" | tar -x -C "$src"
	echo "agent and release client: $VPNPASS_POLL_REV ($(git rev-parse --short "$VPNPASS_POLL_REV"))" >&2
fi

# release <goarch> cross-compiles the release build where TestPollCost finds it.
release() {
	(cd "$src" && GOTOOLCHAIN=${CROSS_GO_TOOLCHAIN:-go1.23.12} CGO_ENABLED=0 GOOS=linux GOARCH=$1 GOMIPS=softfloat \
		go build -trimpath -gcflags=all=-l -ldflags '-s -w' -o "$OLDPWD/$tdir/vpnpass-linux-$1" ./cmd/vpnpass)
}

for t in "${targets[@]}"; do
	rm -f "$tdir"/vpnpass-linux-*
	case $t in
	host)
		goarch=$(go env GOARCH)
		release "$goarch"
		# shellcheck disable=SC2086 # knobs are words
		env $knobs VPNPASS_POLL_FIREWALLS="${VPNPASS_POLL_FIREWALLS_HOST:-nftables-drop,fw4}" \
			go test ./test/pollcost/ -run '^TestPollCost$' -count=1 -v -timeout 15m >"$logs/host.log" 2>&1 || true
		log=$logs/host.log
		;;
	mips | mipsel)
		goarch=${t/mipsel/mipsle}
		release "$goarch"
		VPNPASS_VM_PKGS=./test/pollcost VPNPASS_VM_ENV="$knobs" VPNPASS_VM_LOGDIR=$logs \
			VPNPASS_VM_TEST_TIMEOUT=15m build/vm/test-vm.sh "$t" >&2 || true
		log=$logs/vm-$t.log
		;;
	*) echo "unknown target $t (host, mips, mipsel)" >&2; exit 2 ;;
	esac
	if ! grep -a '^POLLCOST\(-[A-Z]*\)\? ' "$log" | sed "s/^\(POLLCOST[-A-Z]*\) /\1 target=$t /" >>"$raw"; then
		echo "$t: no measurement; its output:" >&2
		grep -aE -- '--- (FAIL|SKIP)|_test.go:[0-9]+:|panic' "$log" >&2 || tail -n 30 "$log" >&2
	fi
done

# The table: per poll, the plugin process (median and p90 of user+sys, wall),
# the agent's extra CPU (poll window minus its idle rate, / polls), and the
# median total as a share of LuCI's 10 s interval.
awk '
	function v(k) { return f[k] }
	/^POLLCOST-STEP / {
		delete f
		for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		steps = steps sprintf("  %s %s obs=%s: %-10s %6s the polls %7.2f ms CPU, %7.2f ms wall (median of %d, in the test process)\n", \
			v("target"), v("firewall"), v("observe"), v("step"), v("when"), v("thread_cpu_med_ms"), v("wall_med_ms"), v("runs"))
	}
	# Fixed formats: bench-all.sh reads the k-th number after "idle <target>
	# <firewall> obs=<o>:" and the like (numbers stand alone between spaces).
	/^POLLCOST-(IDLE|MEM|CT|CLIMEM) / {
		delete f # values may hold "=" (initenv=GOMEMLIMIT=10MiB,GOGC=50)
		for (i = 2; i <= NF; i++) { e = index($i, "="); f[substr($i, 1, e - 1)] = substr($i, e + 1) }
		if ($1 == "POLLCOST-IDLE")
			mem = mem sprintf("idle %s %s obs=%s: RSS %.2f MiB anon %.2f file %.2f | %.0f wake-ups/min | %.2f ms CPU per judging tick | GC %.1f %% of CPU without idle workers %.1f ( %d cycles in %.0f s ) init env %s\n", \
				v("target"), v("firewall"), v("observe"), v("vmrss_kb") / 1024, v("rssanon_kb") / 1024, (v("rssfile_kb") + v("rssshmem_kb")) / 1024, \
				v("wakeups_per_min"), v("judge_ms_per_tick"), v("gc_pct_of_cpu"), v("gc_busy_pct_of_cpu"), v("gc_cycles"), v("idle_s"), v("initenv"))
		else if ($1 == "POLLCOST-CT")
			mem = mem sprintf("ct %s %s obs=%s: %d events %.1f us CPU per event | GC %.1f %% of CPU without idle workers %.1f ( %d cycles ) | RSS %.2f MiB anon %.2f peak %.2f\n", \
				v("target"), v("firewall"), v("observe"), v("events"), v("us_per_event"), v("gc_pct_of_cpu"), v("gc_busy_pct_of_cpu"), v("gc_cycles"), \
				v("vmrss_kb") / 1024, v("rssanon_kb") / 1024, v("vmhwm_kb") / 1024)
		else if ($1 == "POLLCOST-CLIMEM")
			mem = mem sprintf("cli %s %s obs=%s %s: peak RSS median %.2f MiB max %.2f ( %d runs )\n", \
				v("target"), v("firewall"), v("observe"), v("client"), v("hwm_med_kb") / 1024, v("hwm_max_kb") / 1024, v("runs"))
		else
			mem = mem sprintf("after %s %s obs=%s: RSS %.2f MiB anon %.2f file %.2f peak %.2f\n", \
				v("target"), v("firewall"), v("observe"), v("vmrss_kb") / 1024, v("rssanon_kb") / 1024, (v("rssfile_kb") + v("rssshmem_kb")) / 1024, v("vmhwm_kb") / 1024)
	}
	/^POLLCOST-MAP / { maps = maps "  " substr($0, 14) "\n" }
	/^POLLCOST / {
		delete f
		for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		if (!hdr++) {
			printf "%-6s %-13s %-3s %-11s %6s | %-18s %-17s | %9s %9s | %8s %9s\n", "target", "firewall", "obs", "client", "bin", \
				"plugin cpu med/p90", "plugin wall med/p90", "agent cpu", "agent idle", "total", "of 10 s"
		}
		total = v("cpu_med_ms") + v("agent_ms_per_poll")
		printf "%-6s %-13s %-3s %-11s %5.1fM | %7.1f/%7.1f ms  %7.1f/%7.1f ms | %6.2f ms %8.2f%% | %5.1f ms %8.2f%%\n", \
			v("target"), v("firewall"), v("observe"), v("client"), v("bin_kb") / 1024, v("cpu_med_ms"), v("cpu_p90_ms"), \
			v("wall_med_ms"), v("wall_p90_ms"), v("agent_ms_per_poll"), v("agent_idle_pct"), total, total / 100
		rss = rss sprintf("  %s %s obs=%s %s: plugin user %.1f + sys %.1f ms (medians); wall first/last fifth %.0f/%.0f ms; %d polls every %d ms, %d answered an error\n", \
			v("target"), v("firewall"), v("observe"), v("client"), v("user_med_ms"), v("sys_med_ms"), v("wall_first_ms"), v("wall_last_ms"), v("polls"), v("interval_ms"), v("errors"))
	}
	END {
		if (!hdr) { print "no measurements (see the output above)"; exit 1 }
		printf "%s", rss
		if (steps != "") { print "status steps alone (drift plan, fw.Inspect, helpers.Probe, the cache key, a whole CollectStatus, its encoding):"; printf "%s", steps }
		if (mem != "") { print "the agent (init script env) at rest, under a conntrack burst, after the polls; the plugin process:"; printf "%s", mem }
		if (maps != "") { print "the agent at rest: mappings with >= 64 KiB resident (smaps):"; printf "%s", maps }
		print "file: the binary pages (RssFile + RssShmem: in the VMs the binary is on the initramfs, a tmpfs)"
		print "agent cpu: per poll, resolution 10 ms / polls (/proc ticks); agent idle: its CPU share at rest"
	}' "$raw"
