#!/usr/bin/env bash
# Builds the big-endian MIPS Malta kernel for `make test-vm` from Debian's
# linux-source with Debian's cross compiler and build/vm/mips-malta.config,
# and caches the vmlinux under the fragment's hash: only the first run on a
# machine pays for the build (~7 min on 2 cores). Prints the vmlinux path.
# Host packages are expected to be installed by test-vm.sh (run alone, it
# installs them itself).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$(mips_vmlinux_path)
mkdir -p "$VM_CACHE/mips"
exec 9>"$VM_CACHE/mips/.lock"
flock 9
if [ -s "$out" ]; then
	echo "$out"
	exit 0
fi

src_pkg=$(linux_source_pkg)
ensure_pkgs gcc-mips-linux-gnu "$src_pkg" bc flex bison xz-utils make gcc libc6-dev

# unpack_source extracts the newest linux-source tarball once; the marker
# file guards against a half-extracted tree left by an interrupted run.
unpack_source() {
	local tarball name dir
	tarball=$(ls /usr/src/linux-source-*.tar.xz | sort -V | tail -n1)
	name=$(basename "$tarball" .tar.xz)
	dir="$VM_CACHE/src/$name"
	if [ ! -e "$dir/.vpnpass-unpacked" ]; then
		log "unpacking $tarball"
		rm -rf "$dir"
		mkdir -p "$VM_CACHE/src"
		tar -xJf "$tarball" -C "$VM_CACHE/src"
		touch "$dir/.vpnpass-unpacked"
	fi
	echo "$dir"
}

# check_config fails when a `=y` line of the fragment did not survive
# allnoconfig (unknown symbol or unmet dependency), naming the lost options.
check_config() {
	local cfg=$1 lost
	lost=$(grep -E '^CONFIG_[A-Z0-9_]+=y$' "$VM_DIR/mips-malta.config" | while read -r line; do
		grep -qxF "$line" "$cfg" || echo "${line%=y}"
	done)
	[ -z "$lost" ] || die "mips-malta.config: not enabled after allnoconfig: $(tr '\n' ' ' <<<"$lost")"
}

src=$(unpack_source)
build="$VM_CACHE/mips/build-$(fragment_hash)"
kmake=(make -s -C "$src" O="$build" ARCH=mips CROSS_COMPILE=mips-linux-gnu-)
log "building big-endian MIPS Malta kernel in $build (first run only, several minutes)"
start=$(date +%s)
# A build dir of another fragment is the debris of an interrupted or failed run.
find "$VM_CACHE/mips" -maxdepth 1 -name 'build-*' ! -path "$build" -exec rm -rf {} +
mkdir -p "$build"
"${kmake[@]}" KCONFIG_ALLCONFIG="$VM_DIR/mips-malta.config" allnoconfig
check_config "$build/.config"
nice -n 10 "${kmake[@]}" -j"$(nproc)" vmlinux
cp "$build/vmlinux" "$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$build"
log "mips kernel built in $(($(date +%s) - start))s: $out"
echo "$out"
