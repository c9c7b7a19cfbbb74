# Shared helpers for the build/vm scripts (sourced, not run).
# shellcheck shell=bash

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$VM_DIR/../.." && pwd)
VM_CACHE=${VPNPASS_VM_CACHE:-/var/cache/vpnpass-vm}

log() { printf '[test-vm] %s\n' "$*" >&2; }
die() { printf '[test-vm] error: %s\n' "$*" >&2; exit 1; }

# apt_get waits for the dpkg lock instead of failing: other jobs on the
# machine may be installing at the same moment.
apt_get() {
	DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=900 "$@"
}

# apt_updated runs `apt-get update` at most once per script run.
APT_UPDATED=0
apt_updated() {
	if [ "$APT_UPDATED" = 0 ]; then
		log "apt-get update"
		apt_get update >/dev/null
		APT_UPDATED=1
	fi
}

# pkg_installed tells whether a Debian package (host architecture) is installed.
pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# ensure_pkgs installs the host packages that are missing, and nothing else.
ensure_pkgs() {
	local missing=() p
	for p in "$@"; do
		pkg_installed "$p" || missing+=("$p")
	done
	[ "${#missing[@]}" = 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "need root to install: ${missing[*]}"
	log "installing host packages: ${missing[*]}"
	if ! apt_get install -y --no-install-recommends "${missing[@]}" >/dev/null; then
		apt_updated
		apt_get install -y --no-install-recommends "${missing[@]}" >/dev/null
	fi
}

# linux_source_pkg names the linux-source package to build the mips kernel
# from: 6.1 (what the fragment was written against) when Debian serves it.
linux_source_pkg() {
	if pkg_installed linux-source-6.1 || apt-cache show linux-source-6.1 >/dev/null 2>&1; then
		echo linux-source-6.1
	else
		echo linux-source
	fi
}

# fragment_hash keys the cached mips kernel: the fragment plus the recipe
# version below (bump it when mips-kernel.sh changes how the kernel is built).
MIPS_RECIPE=1
fragment_hash() {
	{ cat "$VM_DIR/mips-malta.config"; echo "recipe=$MIPS_RECIPE"; } | sha256sum | cut -c1-16
}

mips_vmlinux_path() { echo "$VM_CACHE/mips/vmlinux-$(fragment_hash)"; }
