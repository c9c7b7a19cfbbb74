#!/usr/bin/env bash
# Runs `vpnpass version` of the cross builds under qemu-user: proves the
# binaries start on the routers' CPUs (netlink itself needs full-system qemu:
# see `make test-vm`).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${OUT:-bin/cross}
fail=0
for pair in mips:vpnpass-linux-mips-softfloat mipsel:vpnpass-linux-mipsle-softfloat \
	arm:vpnpass-linux-armv5 arm:vpnpass-linux-armv7 aarch64:vpnpass-linux-arm64; do
	q=qemu-${pair%%:*}-static bin=$dir/${pair#*:}
	if out=$("$q" "$bin" version 2>&1); then
		printf 'qemu-user %-32s ok: %s\n' "${pair#*:}" "$out"
	else
		printf 'qemu-user %-32s FAILED: %s\n' "${pair#*:}" "$out"
		fail=1
	fi
done
exit $fail
