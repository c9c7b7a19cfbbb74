# Assembles a guest's initramfs (sourced by test-vm.sh): the Go /init, the
# test binaries with the testdata they read, busybox where Debian has one for
# the architecture, the kernel modules to preload, Debian's nft and conntrack
# when a bench asks (VPNPASS_VM_ANCHOR=1), and /etc/vmtest.conf.
# shellcheck shell=bash

# Busybox applets linked into the Debian guests: a shell and coreutils for
# reading a guest, and modprobe for the kernel's own request_module. Listed
# because the host cannot run a foreign busybox to ask it. Deliberately no
# `ip`, `nc`, `wget`: busybox's versions differ from the real tools, and a
# test that finds them with exec.LookPath would fail instead of skipping.
BUSYBOX_APPLETS=(sh ash cat echo ls ps kill sleep mount umount grep sed awk env uname
	dmesg readlink ping ping6 insmod rmmod lsmod modprobe true false)

# stage_skeleton creates the directory tree and the device nodes the kernel
# needs before devtmpfs is mounted (the console for init's stdio).
stage_skeleton() {
	local s=$1
	mkdir -p "$s"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,root,etc,tests,src,lib/modules,var}
	ln -s /run "$s/var/run"
	mknod -m 600 "$s/dev/console" c 5 1
	mknod -m 666 "$s/dev/null" c 1 3
}

stage_busybox() {
	local s=$1 root=$2 a
	[ -x "$root/bin/busybox" ] || return 0
	cp "$root/bin/busybox" "$s/bin/busybox"
	for a in "${BUSYBOX_APPLETS[@]}"; do
		case $a in
		insmod | rmmod | lsmod | modprobe) ln -s /bin/busybox "$s/sbin/$a" ;;
		*) ln -s busybox "$s/bin/$a" ;;
		esac
	done
}

# stage_modules copies the preload list in its real layout, so modprobe and
# our helpers package find them where a router keeps them, and lists them
# for /init in load order.
stage_modules() {
	local s=$1 root=$2 kver=$3 conf=$4 m
	local src="$root/lib/modules/$kver" dst="$s/lib/modules/$kver"
	mkdir -p "$dst"
	cp "$src"/modules.builtin* "$src"/modules.order "$dst/" 2>/dev/null || true
	while read -r m; do
		mkdir -p "$dst/$(dirname "$m")"
		cp "$src/$m" "$dst/$m"
		echo "module=$m" >>"$conf"
	done < <(guest_module_order "$root" "$kver")
	depmod -b "$s" "$kver"
}

# stage_tests copies the test binaries and every testdata directory of the
# module, mirroring the source tree under /src so relative paths resolve.
stage_tests() {
	local s=$1 bindir=$2 conf=$3 name dir
	while read -r name dir; do
		cp "$bindir/$name" "$s/tests/$name"
		mkdir -p "$s/src/$dir"
		echo "test=$name $dir" >>"$conf"
	done <"$bindir/manifest"
	# go.mod marks the module root for tests that walk up to find it.
	cp "$REPO_ROOT/go.mod" "$s/src/go.mod"
	(cd "$REPO_ROOT" && find . -path ./.git -prune -o -type d -name testdata -print |
		while read -r d; do
			mkdir -p "$s/src/$(dirname "$d")"
			cp -a "$d" "$s/src/$(dirname "$d")/"
		done)
}

# write_config starts /etc/vmtest.conf with the run options.
write_config() {
	local conf=$1 kv
	{
		echo "# written by build/vm/test-vm.sh"
		echo "halt=poweroff"
		echo "timeout=$VM_TEST_TIMEOUT"
		[ -z "$VM_RUN" ] || echo "run=$VM_RUN"
		[ -z "${VM_BENCH:-}" ] || echo "bench=$VM_BENCH"
		[ -z "${VM_BENCHTIME:-}" ] || echo "benchtime=$VM_BENCHTIME"
		# Routers raise the conntrack limit (OpenWrt: 16384 and up); a 256 MB
		# guest would otherwise stop at ~4096 flows, and the VMs test byte
		# order, not capacity.
		echo "sysctl=net/netfilter/nf_conntrack_max=65536"
		for kv in $VM_GUEST_ENV; do echo "env=$kv"; done
	} >"$conf"
}

# build_initramfs <target> <bindir> <out.gz> [guest root] [kernel release]
build_initramfs() {
	local target=$1 bindir=$2 out=$3 root=${4:-} kver=${5:-} s conf
	s=$(mktemp -d "$VM_CACHE/$target/stage.XXXXXX")
	conf="$s/etc/vmtest.conf"
	stage_skeleton "$s"
	write_config "$conf"
	cp "$bindir/init" "$s/init"
	if [ -n "$root" ]; then
		stage_busybox "$s" "$root"
		stage_modules "$s" "$root" "$kver" "$conf"
		[ "${VM_ANCHOR:-0}" != 1 ] || stage_anchor_tools "$s" "$target"
	fi
	stage_tests "$s" "$bindir" "$conf"
	(cd "$s" && find . -print0 | cpio --null -o -H newc --owner 0:0 --quiet) | gzip -4 >"$out.tmp"
	mv "$out.tmp" "$out"
	rm -rf "$s"
}
