#!/usr/bin/env bash
# Size of the linux/mips softfloat binary against docs/design.md#budgets (stripped
# <= 4.5 MiB; gzip -9, what an ipk stores and opkg needs free, <= 1.4 MiB; as a
# file on JFFS2, what an installed package costs in the overlay (mkfs.jffs2,
# zlib, 64 KiB erase blocks, big-endian; Debian's mtd-utils), <= 1.9 MiB;
# xz -9e, squashfs when an image bakes it in, <= 1.1 MiB), next to the floor: test/testdata/sizefloor,
# a main that links only the libraries (nftables, os/exec for
# iptables, mdlayher/netlink, ti-mo/conntrack, bbolt). Builds with the installed Go and
# with the OpenWrt 24.10 SDK's Go (GO123, fetched through GOTOOLCHAIN), then
# prints which packages (ours and the stdlib they pull) cost the most bytes
# above the floor. The "-l" row (no inlining) is for information only.
# "content" is the bytes of the sections: the stripped size moves in 64 KiB
# steps on mips (page-aligned segments), content shows every byte saved.
# Usage: test/bench-size.sh [rows]   (env: GO123=go1.23.12, KEEP=dir,
# SIZE_RAW=file for machine-readable rows, SIZE_ONLY=1 to skip the per-package part)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-25}
go123=${GO123:-go1.23.12}
dir=${KEEP:-$(mktemp -d)}
[ -n "${KEEP:-}" ] || trap 'rm -rf "$dir"' EXIT
export GOOS=linux GOARCH=mips GOMIPS=softfloat CGO_ENABLED=0

build() { # name toolchain pkg [go build flags...]
	local name=$1 tc=$2 pkg=$3
	shift 3
	GOTOOLCHAIN=$tc go build -trimpath "$@" -o "$dir/$name" "$pkg"
}

mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }

# jffs2 <file>: bytes of a JFFS2 image holding only the file, minus that of
# an empty image (the overlay cost of installing it).
jffs2() {
	local root=$dir/jffs2root
	rm -rf "$root" && mkdir -p "$root/empty" "$root/one"
	cp "$1" "$root/one/f"
	mkfs.jffs2 -b -e 64KiB -q -d "$root/one" -o "$root/one.img"
	mkfs.jffs2 -b -e 64KiB -q -d "$root/empty" -o "$root/empty.img"
	echo $(($(stat -c %s "$root/one.img") - $(stat -c %s "$root/empty.img")))
}

row() { # label file
	local s c g j x
	s=$(stat -c %s "$2")
	c=$("$dir/sizereport" -content "$2")
	g=$(gzip -9 -c "$2" | wc -c)
	j=$(jffs2 "$2")
	x=$(xz -9e -T1 -c "$2" | wc -c)
	printf '%-36s %10d %6s %10d %6s %6s %6s\n' "$1" "$s" "$(mib "$s")" "$c" "$(mib "$g")" "$(mib "$j")" "$(mib "$x")"
	echo "SIZE label=${1// /_} stripped=$s content=$c gzip=$g jffs2=$j xz=$x" >>"$dir/size.raw"
}

GOOS='' GOARCH='' go build -o "$dir/sizereport" ./test/testdata/sizereport
command -v mkfs.jffs2 >/dev/null || { echo "bench-size: mkfs.jffs2 missing (build/deps.sh installs mtd-utils)" >&2; exit 1; }
: >"$dir/size.raw"
printf '%-36s %10s %6s %10s %6s %6s %6s\n' "linux/mips softfloat (MiB)" stripped MiB content gzip jffs2 xz
printf '%-36s %10d %6s %10s %6s %6s %6s\n' "budget" 4718592 4.50 "" 1.40 1.90 1.10
for tc in local "$go123"; do
	v=$(GOTOOLCHAIN=$tc go env GOVERSION)
	build "floor-$v" "$tc" ./test/testdata/sizefloor -ldflags "-s -w"
	build "ours-$v" "$tc" ./cmd/vpnpass -ldflags "-s -w"
	build "ours-l-$v" "$tc" ./cmd/vpnpass -ldflags "-s -w" -gcflags=all=-l
	row "floor ($v)" "$dir/floor-$v"
	row "vpnpass ($v)" "$dir/ours-$v"
	row "vpnpass -gcflags=all=-l ($v)" "$dir/ours-l-$v"
done

[ -z "${SIZE_RAW:-}" ] || cp "$dir/size.raw" "$SIZE_RAW"
[ -z "${SIZE_ONLY:-}" ] || exit 0

# Per-package bytes need symbols: unstripped builds with the installed Go.
echo
build floor.sym local ./test/testdata/sizefloor
build ours.sym local ./cmd/vpnpass
"$dir/sizereport" -n "$rows" "$dir/ours.sym" "$dir/floor.sym"
echo
echo "avoidable stdlib parts:"
"$dir/sizereport" -heavy "$dir/ours.sym"
