# Debian's own nft and conntrack for a Debian guest, the anchors the benches
# compare us with (sourced by test-vm.sh when VPNPASS_VM_ANCHOR=1; the
# default test-vm run never stages them, so its tests keep skipping what
# needs nft). Downloaded with `apt-get download` for the guest's
# architecture, unpacked into the cache, never installed into /.
# shellcheck shell=bash

# The tools; their shared libraries (and the dynamic loader, in libc6) come
# from apt's dependency closure, so nothing here pins a version: the archive
# decides, and anchor.env records what was fetched.
ANCHOR_PKGS=(nftables conntrack)

# anchor_closure lists the packages to fetch: the tools and every package
# they depend on (Depends and Pre-Depends), for one architecture.
anchor_closure() {
	local arch=$1 p
	apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "${ANCHOR_PKGS[@]/%/:$arch}" |
		awk -v a=":$arch" '/^[a-z0-9]/ && index($1, a) { sub(a "$", "", $1); print $1 }' |
		sort -u
}

# fetch_anchor_tools leaves $VM_CACHE/<target>/anchor/anchor.env naming the
# unpacked root (ANCHOR_ROOT) and the package versions (ANCHOR_VERSIONS).
# Once it exists it is reused without asking apt; VPNPASS_VM_REFRESH=1
# fetches the newest again.
fetch_anchor_tools() {
	local target=$1 arch=${DEB_ARCH[$1]} dir="$VM_CACHE/$1/anchor" root pkgs deb versions
	if [ -s "$dir/anchor.env" ] && [ "${VPNPASS_VM_REFRESH:-0}" != 1 ]; then
		return 0
	fi
	ensure_foreign_arch "$arch"
	mapfile -t pkgs < <(anchor_closure "$arch")
	[ "${#pkgs[@]}" -gt 0 ] || die "$target: apt knows no ${ANCHOR_PKGS[*]} for $arch"
	log "$target: downloading the anchor tools and their libraries: ${pkgs[*]}"
	root="$dir/root"
	rm -rf "$dir"
	mkdir -p "$dir/debs" "$root"
	chown _apt "$dir/debs" 2>/dev/null || true
	(cd "$dir/debs" && apt_get download "${pkgs[@]/%/:$arch}" >/dev/null)
	versions=
	for deb in "$dir/debs"/*.deb; do
		dpkg-deb -x "$deb" "$root"
		versions="$versions $(dpkg-deb -f "$deb" Package)=$(dpkg-deb -f "$deb" Version)"
	done
	# gconv (20 MB of charset modules) is for iconv, which the tools never call.
	rm -rf "$dir/debs" "$root/usr/share" "$root"/usr/lib/*-linux-gnu/gconv
	printf 'ANCHOR_ROOT=%q\nANCHOR_VERSIONS=%q\n' "$root" "${versions# }" >"$dir/anchor.env.tmp"
	mv "$dir/anchor.env.tmp" "$dir/anchor.env"
}

# stage_anchor_tools copies the tools, their libraries and the loader into
# an initramfs stage, the libraries flat in /lib and /usr/lib: without an
# ld.so.cache (a foreign ldconfig cannot run here) the loader searches only
# those, not the multiarch directories. It logs the versions for the run.
stage_anchor_tools() {
	local s=$1 target=$2 d
	# shellcheck disable=SC1090,SC1091
	. "$VM_CACHE/$target/anchor/anchor.env"
	cp -a "$ANCHOR_ROOT"/usr/sbin/. "$s/usr/sbin/"
	for d in lib usr/lib; do
		mkdir -p "$s/$d"
		find "$ANCHOR_ROOT/$d" -mindepth 2 -maxdepth 2 -path "*-linux-gnu*/*" ! -name gconv \
			-exec cp -a -t "$s/$d/" {} +
	done
	# shellcheck disable=SC2153 # set by anchor.env
	log "$target: anchor tools staged: $ANCHOR_VERSIONS"
}
