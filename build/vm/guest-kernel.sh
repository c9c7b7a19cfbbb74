# Fetches Debian's kernel and busybox-static for a foreign architecture and
# unpacks them into the cache (sourced by test-vm.sh; never installs into /).
# shellcheck shell=bash

# Debian packages per target: the kernel metapackage and the dpkg architecture.
declare -A DEB_ARCH=([s390x]=s390x [mipsel]=mipsel)
declare -A DEB_KERNEL_META=([s390x]=linux-image-s390x [mipsel]=linux-image-4kc-malta)

# ensure_foreign_arch makes apt know the architecture's package lists; it
# touches only dpkg's architecture list and apt's lists, never installs.
ensure_foreign_arch() {
	local arch=$1
	if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
		log "dpkg --add-architecture $arch"
		dpkg --add-architecture "$arch"
		APT_UPDATED=0
		apt_updated
	elif ! apt-cache show "busybox-static:$arch" >/dev/null 2>&1; then
		apt_updated
	fi
}

# kernel_package resolves the metapackage to the versioned image package.
kernel_package() {
	local target=$1 arch=${DEB_ARCH[$1]} dep
	dep=$(apt-cache depends "${DEB_KERNEL_META[$target]}:$arch" |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
	[ -n "$dep" ] || die "no kernel behind ${DEB_KERNEL_META[$target]}:$arch"
	echo "${dep%%:*}"
}

# fetch_guest_kernel leaves $VM_CACHE/<target>/guest.env describing the
# unpacked kernel (KIMAGE, KVER, GUEST_ROOT). Once it exists it is reused
# without asking apt again; VPNPASS_VM_REFRESH=1 fetches the newest again.
fetch_guest_kernel() {
	local target=$1 arch=${DEB_ARCH[$1]} dir="$VM_CACHE/$1" kpkg root kver kimage
	if [ -s "$dir/guest.env" ] && [ "${VPNPASS_VM_REFRESH:-0}" != 1 ]; then
		return 0
	fi
	ensure_foreign_arch "$arch"
	kpkg=$(kernel_package "$target")
	root="$dir/root-$kpkg"
	log "$target: downloading $kpkg and busybox-static for $arch"
	rm -rf "$dir/debs" "$root"
	mkdir -p "$dir/debs" "$root"
	# apt's download sandbox user must be able to write here.
	chown _apt "$dir/debs" 2>/dev/null || true
	(cd "$dir/debs" && apt_get download "$kpkg:$arch" "busybox-static:$arch" >/dev/null)
	local deb
	for deb in "$dir/debs"/*.deb; do
		dpkg-deb -x "$deb" "$root"
	done
	kver=$(ls "$root/lib/modules" | head -n1)
	kimage=$(ls "$root/boot/"vmlinu[xz]-"$kver" 2>/dev/null | head -n1)
	if [ -z "$kver" ] || [ -z "$kimage" ]; then die "$target: no kernel image in $kpkg"; fi
	unpack_xz_modules "$root/lib/modules/$kver"
	depmod -b "$root" "$kver"
	rm -rf "$dir/debs"
	printf 'KIMAGE=%q\nKVER=%q\nGUEST_ROOT=%q\n' "$kimage" "$kver" "$root" >"$dir/guest.env.tmp"
	mv "$dir/guest.env.tmp" "$dir/guest.env"
	# Drop older unpacked kernels of this target.
	find "$dir" -maxdepth 1 -name 'root-*' ! -path "$root" -exec rm -rf {} +
}

# unpack_xz_modules turns newer kernels' .ko.xz into plain .ko (finit_module
# needs the kernel's own xz support otherwise, which we do not rely on).
unpack_xz_modules() {
	find "$1" -name '*.ko.xz' -exec xz -d {} +
}

# Modules preloaded into the Debian guests: the netfilter/nftables/conntrack
# family and the links the labs build. br_netfilter stays out on purpose:
# OpenWrt does not load it, and it would send bridged LAN traffic through the
# IP hooks.
GUEST_MODULE_GLOBS=(
	'kernel/lib/ts_kmp.ko' 'kernel/lib/ts_bm.ko' # string search for the amanda/sip helpers
	'kernel/net/netfilter/nf_*.ko' 'kernel/net/netfilter/nft_*.ko'
	'kernel/net/netfilter/nfnetlink*.ko' 'kernel/net/netfilter/nf_tables.ko'
	'kernel/net/ipv4/netfilter/nf_*.ko' 'kernel/net/ipv4/netfilter/nft_*.ko'
	'kernel/net/ipv6/netfilter/nf_*.ko' 'kernel/net/ipv6/netfilter/nft_*.ko'
	'kernel/net/bridge/bridge.ko' 'kernel/drivers/net/veth.ko'
	'kernel/drivers/net/macvlan.ko' 'kernel/drivers/net/tun.ko'
	'kernel/drivers/net/dummy.ko' 'kernel/drivers/power/reset/piix4-poweroff.ko'
)

# guest_module_order prints the modules to load, dependencies first, as paths
# relative to the modules directory (the host's modprobe resolves the order).
guest_module_order() {
	local root=$1 kver=$2 mdir="$1/lib/modules/$2" g f name
	for g in "${GUEST_MODULE_GLOBS[@]}"; do
		for f in "$mdir"/$g; do
			[ -e "$f" ] || continue
			name=$(basename "$f" .ko)
			modprobe -d "$root" -S "$kver" --show-depends "$name" 2>/dev/null |
				awk '$1 == "insmod" { print $2 }'
		done
	done | sed "s|^$mdir/||" | awk '!seen[$0]++'
}
