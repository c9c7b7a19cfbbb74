#!/usr/bin/env bash
# Builds the OpenWrt packages of vpnpass without the SDK, the way OpenWrt's
# scripts/ipkg-build does (an .ipk is a gzipped GNU tar holding
# ./debian-binary, ./data.tar.gz and ./control.tar.gz, files owned by 0:0,
# sorted, with a fixed mtime), into dist/:
#   vpnpass_<ver>_<arch>.ipk        for each OpenWrt arch below
#   luci-app-vpnpass_<ver>_all.ipk  the LuCI page
#   luci-i18n-vpnpass-ja_<ver>_all.ipk  its Japanese catalog (.lmo)
# The binaries come from build/cross.sh (bin/cross/). Environment:
#   VERSION  package version (default: git describe)   OUT  (default dist)
#   CROSS_DIR (default bin/cross)   ARCHS  subset of the archs below
#   SOURCE_DATE_EPOCH  mtime of every file (default: last commit)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out=${OUT:-dist}
cross=${CROSS_DIR:-bin/cross}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
maintainer="vpnpass maintainers <maintainers@vpnpass.invalid>"

# OpenWrt arch -> binary from build/cross.sh. Go's GOARM=7 uses VFP
# instructions: ARM targets without an FPU (arm_cortex-a9 is bcm53xx, which
# has none; arm_arm926ej-s, arm_xscale) get the GOARM=5 binary, whose
# floating point is done in software.
declare -A binary=(
	[mips_24kc]=vpnpass-linux-mips-softfloat
	[mipsel_24kc]=vpnpass-linux-mipsle-softfloat
	[mipsel_74kc]=vpnpass-linux-mipsle-softfloat
	[arm_arm926ej-s]=vpnpass-linux-armv5
	[arm_xscale]=vpnpass-linux-armv5
	[arm_cortex-a9]=vpnpass-linux-armv5
	[arm_cortex-a9_vfpv3-d16]=vpnpass-linux-armv7
	[arm_cortex-a7_neon-vfpv4]=vpnpass-linux-armv7
	[arm_cortex-a15_neon-vfpv4]=vpnpass-linux-armv7
	[aarch64_generic]=vpnpass-linux-arm64
	[aarch64_cortex-a53]=vpnpass-linux-arm64
	[aarch64_cortex-a72]=vpnpass-linux-arm64
	[x86_64]=vpnpass-linux-amd64
)
declare -A langname=([ja]="日本語 (Japanese)")
archs=${ARCHS:-$(printf '%s\n' "${!binary[@]}" | sort | tr '\n' ' ')}

# opkg versions must start with a digit and use no '/' or '_'.
pkgversion() {
	local v=${1#v}
	v=${v//[^A-Za-z0-9.+~-]/.}
	case "$v" in [0-9]*) ;; *) v="0.0.0+$v" ;; esac
	printf '%s\n' "$v"
}
version=$(pkgversion "$version")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarx=(tar --format=gnu --numeric-owner --owner=0 --group=0 --sort=name --mtime="@$epoch")

# ipk DIR: packs DIR (data) and DIR/CONTROL into $out, as ipkg-build does.
ipk() {
	local dir=$1 pkg arch tmp
	pkg=$(sed -n 's/^Package: //p' "$dir/CONTROL/control")
	arch=$(sed -n 's/^Architecture: //p' "$dir/CONTROL/control")
	tmp=$(mktemp -d "$work/ipk.XXXXXX")
	(cd "$dir" && "${tarx[@]}" --exclude=./CONTROL -cf - .) | gzip -9n >"$tmp/data.tar.gz"
	sed -i "s/^Installed-Size: .*/Installed-Size: $(zcat "$tmp/data.tar.gz" | wc -c)/" "$dir/CONTROL/control"
	(cd "$dir/CONTROL" && "${tarx[@]}" -cf - .) | gzip -9n >"$tmp/control.tar.gz"
	echo 2.0 >"$tmp/debian-binary"
	(cd "$tmp" && "${tarx[@]}" -cf - ./debian-binary ./data.tar.gz ./control.tar.gz) |
		gzip -9n >"$out/${pkg}_${version}_${arch}.ipk"
	echo "$out/${pkg}_${version}_${arch}.ipk"
}

# control PKG ARCH DEPENDS DESCRIPTION [EXTRA-FIELDS]: writes DIR/CONTROL/control.
control() {
	local dir=$1 pkg=$2 arch=$3 depends=$4 descr=$5 extra=${6:-}
	mkdir -p "$dir/CONTROL"
	{
		printf 'Package: %s\nVersion: %s\nDepends: %s\n' "$pkg" "$version" "$depends"
		[ -n "$extra" ] && printf '%s\n' "$extra"
		printf 'Source: https://github.com/vpnpass/vpnpass\nSourceName: %s\nSection: %s\n' "$pkg" \
			"$([ "$pkg" = vpnpass ] && echo net || echo luci)"
		printf 'SourceDateEpoch: %s\nMaintainer: %s\nArchitecture: %s\nInstalled-Size: 0\n' \
			"$epoch" "$maintainer" "$arch"
		printf 'Description: %s\n' "$descr"
	} >"$dir/CONTROL/control"
}

script() { install -m0755 "$root/build/ipk/$1" "$2/CONTROL/${1#*.}"; }

# defaults DIR: the postinst and prerm OpenWrt's package-pack.mk writes for
# every ipk. They run default_postinst / default_prerm of /lib/functions.sh,
# which source our postinst-pkg / prerm-pkg and then enable (not on upgrade)
# and start, or disable (not on upgrade) and stop, the init script.
defaults() {
	cat >"$1/CONTROL/postinst" <<-'END'
		#!/bin/sh
		[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0
		[ -s "${IPKG_INSTROOT}/lib/functions.sh" ] || exit 0
		# shellcheck source=/dev/null
		. "${IPKG_INSTROOT}/lib/functions.sh"
		default_postinst "$0" "$@"
	END
	cat >"$1/CONTROL/prerm" <<-'END'
		#!/bin/sh
		[ -s "${IPKG_INSTROOT}/lib/functions.sh" ] || exit 0
		# shellcheck source=/dev/null
		. "${IPKG_INSTROOT}/lib/functions.sh"
		default_prerm "$0" "$@"
	END
	chmod 0755 "$1/CONTROL/postinst" "$1/CONTROL/prerm"
}

vpnpass_pkg() {
	local arch=$1 bin="$cross/${binary[$1]:?unknown arch $1}" dir="$work/vpnpass-$1"
	if [ ! -f "$bin" ]; then
		echo "build/ipk: $bin is missing: run 'make cross' first" >&2
		exit 1
	fi
	install -D -m0755 "$bin" "$dir/usr/sbin/vpnpass"
	install -D -m0755 openwrt/files/etc/init.d/vpnpass "$dir/etc/init.d/vpnpass"
	install -D -m0600 openwrt/files/etc/config/vpnpass "$dir/etc/config/vpnpass"
	install -D -m0755 openwrt/files/usr/libexec/rpcd/vpnpass "$dir/usr/libexec/rpcd/vpnpass"
	# sysupgrade keeps the history saved on flash (history_persist_path).
	install -D -m0644 openwrt/files/lib/upgrade/keep.d/vpnpass "$dir/lib/upgrade/keep.d/vpnpass"
	# fw4 includes this at the head of its forward chain; it dangles (and
	# fw4 skips it) until the agent writes a validated file on tmpfs.
	mkdir -p "$dir/usr/share/nftables.d/chain-pre/forward"
	ln -s /var/run/vpnpass/fw4-forward.nft "$dir/usr/share/nftables.d/chain-pre/forward/10-vpnpass.nft"
	control "$dir" vpnpass "$arch" "libc, kmod-nf-conntrack-netlink" \
		"VPN passthrough agent: turns PPTP, L2TP and IPsec passthrough on or off in
 the router's firewall (fw4, nftables, fw3, iptables), detects double NAT and
 CGNAT, and explains in plain words why a VPN from the LAN fails. ubus object
 vpnpass; LuCI page in luci-app-vpnpass. PPTP passthrough also needs the
 kernel's PPTP helper: on 24.10 only kmod-nf-nathelper-extra has it, which
 also loads the amanda, broadcast, h323, irc, netbios_ns, sane, sip, snmp
 and tftp helpers (fw4's auto_helper assigns them all for the LAN)." \
		"Suggests: kmod-nf-nathelper-extra"
	printf '/etc/config/vpnpass\n' >"$dir/CONTROL/conffiles"
	defaults "$dir"
	script vpnpass.postinst-pkg "$dir"
	script vpnpass.prerm-pkg "$dir"
	script vpnpass.postrm "$dir"
	ipk "$dir"
}

luci_pkg() {
	local dir="$work/luci-app" app=openwrt/luci-app-vpnpass
	# the tabs' views, the shared modules and the Status overview include
	(cd "$app/htdocs" && find . -type f) | while read -r f; do
		install -D -m0644 "$app/htdocs/$f" "$dir/www/$f"
	done
	(cd "$app/root" && find . -type f) | while read -r f; do
		install -D -m0644 "$app/root/$f" "$dir/$f"
	done
	control "$dir" luci-app-vpnpass all "libc, luci-base, vpnpass" \
		"LuCI page for vpnpass: VPN passthrough per protocol, live firewall verdicts,
 double-NAT check, diagnosis and history."
	script luci-app-vpnpass.postinst "$dir"
	script luci-app-vpnpass.postrm "$dir"
	ipk "$dir"
}

i18n_pkg() {
	local lang=$1 dir="$work/i18n-$1"
	mkdir -p "$dir/usr/lib/lua/luci/i18n" "$dir/etc/uci-defaults"
	# As luci.mk's translation packages: register the language with LuCI.
	printf "uci set luci.languages.%s='%s'; uci commit luci\n" "${lang//-/_}" "${langname[$lang]:-$lang}" \
		>"$dir/etc/uci-defaults/luci-i18n-vpnpass-$lang"
	chmod 0644 "$dir/etc/uci-defaults/luci-i18n-vpnpass-$lang"
	"$work/po2lmo" "openwrt/luci-app-vpnpass/po/$lang/vpnpass.po" "$dir/usr/lib/lua/luci/i18n/vpnpass.$lang.lmo"
	chmod 0644 "$dir/usr/lib/lua/luci/i18n/vpnpass.$lang.lmo"
	control "$dir" "luci-i18n-vpnpass-$lang" all "libc, luci-app-vpnpass" \
		"Translation for luci-app-vpnpass - ${langname[$lang]:-$lang}"
	i18n_postinst "$dir" "$lang"
	ipk "$dir"
}

# i18n_postinst DIR LANG: luci.mk's translation postinst: run the
# uci-defaults file at once on a live router (at first boot otherwise).
i18n_postinst() {
	cat >"$1/CONTROL/postinst" <<-END
		#!/bin/sh
		[ -n "\${IPKG_INSTROOT}" ] || {
			# shellcheck source=/dev/null
			(. /etc/uci-defaults/luci-i18n-vpnpass-$2) && rm -f /etc/uci-defaults/luci-i18n-vpnpass-$2
			exit 0
		}
	END
	chmod 0755 "$1/CONTROL/postinst"
}

mkdir -p "$out"
go build -o "$work/po2lmo" ./build/po2lmo
for a in $archs; do vpnpass_pkg "$a"; done
luci_pkg
i18n_pkg ja
