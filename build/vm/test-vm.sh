#!/usr/bin/env bash
# Runs the kernel-facing tests inside minimal VMs with foreign kernels:
#   s390x   Debian's s390x kernel           (big-endian, 64-bit)
#   mipsel  Debian's 4kc-malta kernel       (little-endian MIPS)
#   mips    Malta kernel built here         (big-endian MIPS, the router case)
# Usage: build/vm/test-vm.sh [--run REGEX] [targets...]   (default: s390x mipsel mips)
# Environment:
#   VPNPASS_VM_CACHE         cache dir (default /var/cache/vpnpass-vm)
#   VPNPASS_VM_RUN           -test.run for every package (same as --run)
#   VPNPASS_VM_BENCH         -test.bench for every package (benches only; with
#                            VPNPASS_VM_RUN='^$' no test runs), VPNPASS_VM_BENCHTIME
#   VPNPASS_VM_ANCHOR=1      stage Debian's nft and conntrack into the Debian
#                            guests (build/vm/anchor-tools.sh; for the benches)
#   VPNPASS_VM_PKGS          package patterns to test (default: see default_pkgs)
#   VPNPASS_VM_TIMEOUT       seconds one VM may run (default 900)
#   VPNPASS_VM_TEST_TIMEOUT  -test.timeout per package (default 5m)
#   VPNPASS_VM_ENV           extra KEY=VALUE words for the tests' environment
#   VPNPASS_VM_LOGDIR        where the guests' consoles go (default test/artifacts)
#   VPNPASS_VM_REFRESH=1     fetch the newest Debian kernels again
#   VPNPASS_WRONG_ENDIAN=1   passed on: the byte-order proof of test/vmtest
#   GO                       the go command (default go)
# Needs root (apt-get, mknod); installs its host packages when missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$VM_DIR/guest-kernel.sh"
. "$VM_DIR/initramfs.sh"
. "$VM_DIR/anchor-tools.sh"

ALL_TARGETS=(s390x mipsel mips)
declare -A GOARCH_OF=([s390x]=s390x [mipsel]=mipsle [mips]=mips)
declare -A QEMU_OF=([s390x]=qemu-system-s390x [mipsel]=qemu-system-mipsel [mips]=qemu-system-mips)
declare -A QEMU_ARGS=(
	[s390x]="-M s390-ccw-virtio -m 512 -nic none"
	[mipsel]="-M malta -m 256 -nic none -vga none"
	[mips]="-M malta -m 256 -nic none -vga none"
)
declare -A CONSOLE_OF=([s390x]=ttysclp0 [mipsel]=ttyS0 [mips]=ttyS0)

VM_RUN=${VPNPASS_VM_RUN:-}
VM_BENCH=${VPNPASS_VM_BENCH:-} VM_BENCHTIME=${VPNPASS_VM_BENCHTIME:-}
VM_ANCHOR=${VPNPASS_VM_ANCHOR:-0}
GO=${GO:-go}
VM_TIMEOUT=${VPNPASS_VM_TIMEOUT:-900}
VM_TEST_TIMEOUT=${VPNPASS_VM_TEST_TIMEOUT:-5m}
VM_LOGDIR=${VPNPASS_VM_LOGDIR:-$REPO_ROOT/test/artifacts}
VM_GUEST_ENV=${VPNPASS_VM_ENV:-}
[ -z "${VPNPASS_WRONG_ENDIAN:-}" ] || VM_GUEST_ENV="$VM_GUEST_ENV VPNPASS_WRONG_ENDIAN=$VPNPASS_WRONG_ENDIAN"

targets=()
while [ $# -gt 0 ]; do
	case $1 in
	--run) VM_RUN=$2; shift 2 ;;
	--run=*) VM_RUN=${1#--run=}; shift ;;
	-h | --help) sed -n '2,/^# Needs root/p' "$0"; exit 0 ;;
	s390x | mipsel | mips) targets+=("$1"); shift ;;
	*) die "unknown argument $1 (targets: ${ALL_TARGETS[*]})" ;;
	esac
done
[ "${#targets[@]}" -gt 0 ] || targets=("${ALL_TARGETS[@]}")
has_target() { [[ " ${targets[*]} " == *" $1 "* ]]; }

[ "$(id -u)" = 0 ] || die "run as root: installs packages, creates device nodes for the initramfs"
mkdir -p "$VM_CACHE" "$VM_LOGDIR"
# One lock per target (its bin/, initrd, kernel build), taken in a fixed
# order: a bench on mipsel need not wait for a run on mips.
for t in "${ALL_TARGETS[@]}"; do
	has_target "$t" || continue
	exec {lockfd}>"$VM_CACHE/.run-$t.lock"
	flock -n "$lockfd" || { log "another test-vm run holds $t in $VM_CACHE; waiting"; flock "$lockfd"; }
done

# host_packages lists what this run needs on the host.
host_packages() {
	local pkgs=(cpio kmod xz-utils gzip)
	has_target s390x && pkgs+=(qemu-system-misc)
	if has_target mipsel || has_target mips; then pkgs+=(qemu-system-mips); fi
	has_target mips && pkgs+=(gcc-mips-linux-gnu "$(linux_source_pkg)" bc flex bison make gcc libc6-dev)
	echo "${pkgs[@]}"
}

# start_mips_kernel builds the big-endian kernel in the background when it is
# not cached yet: it is the slow part, so everything else overlaps with it.
MIPS_PID=
start_mips_kernel() {
	has_target mips || return 0
	[ -s "$(mips_vmlinux_path)" ] && return 0
	mkdir -p "$VM_CACHE/mips"
	log "mips: building the kernel in the background (log: $VM_CACHE/mips/build.log)"
	"$VM_DIR/mips-kernel.sh" >"$VM_CACHE/mips/build.log" 2>&1 &
	MIPS_PID=$!
}

wait_mips_kernel() {
	[ -n "$MIPS_PID" ] || return 0
	log "mips: waiting for the kernel build"
	if ! wait "$MIPS_PID"; then
		tail -n 30 "$VM_CACHE/mips/build.log" >&2
		return 1
	fi
	MIPS_PID=
}

# default_pkgs: the kernel-facing packages and the lab, where they exist.
default_pkgs() {
	local d
	for d in helpers netfilter conntrack test/lab; do
		[ -d "$REPO_ROOT/$d" ] && echo "./$d/..."
	done
	echo ./test/vmtest
}

# test_packages prints "<import path> <dir>" for every package with tests.
test_packages() {
	local goarch=$1
	# shellcheck disable=SC2046,SC2086 # package patterns are words
	(cd "$REPO_ROOT" && GOOS=linux GOARCH=$goarch "$GO" list -e \
		-f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' \
		${VPNPASS_VM_PKGS:-$(default_pkgs)} 2>/dev/null)
}

# build_tests cross-compiles /init and each package's test binary into
# $VM_CACHE/<target>/bin, writing a manifest "<binary> <dir>". A package that
# does not compile is listed in build-failures and counts as a failure.
build_tests() {
	local target=$1 goarch=${GOARCH_OF[$1]} bindir="$VM_CACHE/$1/bin" ip dir rel name
	rm -rf "$bindir"
	mkdir -p "$bindir"
	: >"$bindir/manifest"
	: >"$bindir/build-failures"
	export CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOMIPS=softfloat
	(cd "$REPO_ROOT" && "$GO" build -o "$bindir/init" ./test/vmtest/vminit)
	while read -r ip dir; do
		[ -n "$ip" ] || continue
		rel=${dir#"$REPO_ROOT"/}
		name="${rel//\//_}.test"
		if (cd "$REPO_ROOT" && "$GO" test -c -ldflags='-s -w' -o "$bindir/$name" "$ip") >"$bindir/$name.log" 2>&1; then
			echo "$name $rel" >>"$bindir/manifest"
		else
			log "$target: $rel does not compile for $goarch:"
			sed 's/^/    /' "$bindir/$name.log" >&2
			echo "$rel" >>"$bindir/build-failures"
		fi
	done < <(test_packages "$goarch")
	unset CGO_ENABLED GOOS GOARCH GOMIPS
}

# run_vm boots one target and leaves its console in $VM_LOGDIR/vm-<target>.log.
run_vm() {
	local target=$1 kernel=$2 initrd=$3 log=$VM_LOGDIR/vm-$1.log
	local append="console=${CONSOLE_OF[$target]} panic=-1 loglevel=4"
	# shellcheck disable=SC2086
	timeout -k 10 "$VM_TIMEOUT" "${QEMU_OF[$target]}" ${QEMU_ARGS[$target]} \
		-nographic -no-reboot -kernel "$kernel" -initrd "$initrd" -append "$append" \
		</dev/null 2>&1 | stdbuf -oL tr -d '\r' >"$log" || true
}

# field <line> <key> prints the value of key=value in a VMTEST line (0 if absent).
field() {
	local v
	v=$(sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1")
	echo "${v:-0}"
}

# report parses the guest's console, prints the target's line and returns
# non-zero when anything failed or the guest never reported.
report() {
	local target=$1 secs=$2 log=$VM_LOGDIR/vm-$1.log sum p=0 f=0 k=0 buildfail verdict=PASS note=
	buildfail=$(grep -c . "$VM_CACHE/$target/bin/build-failures" || true)
	sum=$(grep -a '^VMTEST-SUMMARY ' "$log" | tail -n1 || true)
	if [ -n "$sum" ]; then
		p=$(field "$sum" passed) f=$(field "$sum" failed) k=$(field "$sum" skipped)
		[ "$(field "$sum" failed_packages)" = 0 ] || verdict=FAIL
	else
		verdict=FAIL note="  guest did not report (crash or timeout after ${VM_TIMEOUT}s; see $log)"
		while read -r l; do
			p=$((p + $(field "$l" passed))) f=$((f + $(field "$l" failed))) k=$((k + $(field "$l" skipped)))
		done < <(grep -a '^VMTEST-PKG ' "$log" || true)
		f=$((f + 1)) # the package that was running, or the boot itself
	fi
	if [ "$buildfail" -gt 0 ]; then
		verdict=FAIL f=$((f + buildfail)) note="$note  ($buildfail package(s) did not compile)"
	fi
	[ "$f" = 0 ] || verdict=FAIL
	RESULTS+=("$(printf 'vm %s: %s  %d passed, %d failed, %d skipped  (%ss)%s' \
		"$target" "$verdict" "$p" "$f" "$k" "$secs" "$note")")
	grep -a '^VMTEST-PKG .*result=FAIL' "$log" | sed "s/^/  $target: /" >&2 || true
	[ "$verdict" = PASS ]
}

# kernel_for prints the kernel image of a target and, for Debian guests, the
# unpacked root and release that the modules come from.
kernel_for() {
	if [ "$1" = mips ]; then
		mips_vmlinux_path
		return
	fi
	# shellcheck disable=SC1090,SC1091
	. "$VM_CACHE/$1/guest.env"
	# shellcheck disable=SC2153 # set by guest.env
	echo "$KIMAGE $GUEST_ROOT $KVER"
}

run_target() {
	local target=$1 kernel root kver initrd start
	[ "$target" != mips ] || wait_mips_kernel || {
		RESULTS+=("vm mips: FAIL  kernel build failed (see $VM_CACHE/mips/build.log)")
		return 1
	}
	read -r kernel root kver < <(kernel_for "$target")
	build_tests "$target"
	initrd="$VM_CACHE/$target/initrd.gz"
	build_initramfs "$target" "$VM_CACHE/$target/bin" "$initrd" "$root" "$kver"
	log "$target: booting $(basename "$kernel") ($(du -m "$initrd" | cut -f1) MB initramfs)"
	start=$(date +%s)
	run_vm "$target" "$kernel" "$initrd"
	report "$target" "$(($(date +%s) - start))"
}

# total_line sums the targets in the plain form CI reads as a closing line.
total_line() {
	local r p=0 f=0 k=0 n
	for r in "${RESULTS[@]}"; do
		n=$(sed -n 's/.*  \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped .*/\1 \2 \3/p' <<<"$r")
		if [ -z "$n" ]; then
			f=$((f + 1)) # a target that could not even boot
			continue
		fi
		# shellcheck disable=SC2086 # three numbers
		set -- $n
		p=$((p + $1)) f=$((f + $2)) k=$((k + $3))
	done
	echo "test-vm: $p passed, $f failed, $k skipped"
}

main() {
	local t rc=0
	# shellcheck disable=SC2046
	ensure_pkgs $(host_packages)
	start_mips_kernel
	for t in "${targets[@]}"; do
		[ "$t" = mips ] || fetch_guest_kernel "$t"
		[ "$t" = mips ] || [ "$VM_ANCHOR" != 1 ] || fetch_anchor_tools "$t"
	done
	RESULTS=()
	for t in "${targets[@]}"; do
		run_target "$t" || rc=1
	done
	echo
	printf '%s\n' "${RESULTS[@]}"
	total_line
	return "$rc"
}

main
