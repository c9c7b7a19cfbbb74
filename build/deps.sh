#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo need, only when missing.
# Usage: build/deps.sh [core|peers|all]   (default: all)
set -euo pipefail
core=(nftables iptables conntrack iproute2 xz-utils qemu-user-static mtd-utils)
peers=(python3-scapy xl2tpd strongswan-charon strongswan-swanctl libcharon-extra-plugins
	libstrongswan-extra-plugins coturn miniupnpd shellcheck curl
	chromium fonts-ipafont-gothic fonts-dejavu-core prometheus prometheus-node-exporter)
case "${1:-all}" in
core) want=("${core[@]}") ;;
peers) want=("${peers[@]}") ;;
*) want=("${core[@]}" "${peers[@]}") ;;
esac
missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "build/deps.sh: missing packages ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# miniupnpd and coturn would start system services in the root namespace:
# policy-rc.d stops that; the tests start their own instances in namespaces.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d.vpnpass
restore=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	cp /usr/sbin/policy-rc.d.vpnpass /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
	restore=1
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
[ -n "$restore" ] && rm -f /usr/sbin/policy-rc.d
rm -f /usr/sbin/policy-rc.d.vpnpass
