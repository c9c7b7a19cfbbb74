#!/usr/bin/env bash
# Size of the linux/mips softfloat binary against docs/design.md#budgets (stripped
# <= 4.5 MiB, xz -9e <= 1.2 MiB), next to the floor: test/testdata/sizefloor,
# a main that links only the libraries (nftables, os/exec for
# iptables, mdlayher/netlink, ti-mo/conntrack, bbolt). Builds with the installed Go and
# with the OpenWrt 24.10 SDK's Go (GO123, fetched through GOTOOLCHAIN), then
# prints which packages (ours and the stdlib they pull) cost the most bytes
# above the floor. The "-l" row (no inlining) is for information only.
# "content" is the bytes of the sections: the stripped size moves in 64 KiB
# steps on mips (page-aligned segments), content shows every byte saved.
# Usage: test/bench-size.sh [rows]   (env: GO123=go1.23.12, KEEP=dir)
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

row() { # label file
	local s c x
	s=$(stat -c %s "$2")
	c=$("$dir/sizereport" -content "$2")
	x=$(xz -9e -T1 -c "$2" | wc -c)
	printf '%-36s %10d %6s %10d %10d %6s\n' "$1" "$s" "$(mib "$s")" "$c" "$x" "$(mib "$x")"
}

GOOS= GOARCH= go build -o "$dir/sizereport" ./test/testdata/sizereport
printf '%-36s %10s %6s %10s %10s %6s\n' "linux/mips softfloat" stripped MiB content "xz -9e" MiB
printf '%-36s %10d %6s %10s %10d %6s\n' "budget" 4718592 4.50 "" 1258291 1.20
for tc in local "$go123"; do
	v=$(GOTOOLCHAIN=$tc go env GOVERSION)
	build "floor-$v" "$tc" ./test/testdata/sizefloor -ldflags "-s -w"
	build "ours-$v" "$tc" ./cmd/vpnpass -ldflags "-s -w"
	build "ours-l-$v" "$tc" ./cmd/vpnpass -ldflags "-s -w" -gcflags=all=-l
	row "floor ($v)" "$dir/floor-$v"
	row "vpnpass ($v)" "$dir/ours-$v"
	row "vpnpass -gcflags=all=-l ($v)" "$dir/ours-l-$v"
done

# Per-package bytes need symbols: unstripped builds with the installed Go.
echo
build floor.sym local ./test/testdata/sizefloor
build ours.sym local ./cmd/vpnpass
"$dir/sizereport" -n "$rows" "$dir/ours.sym" "$dir/floor.sym"
echo
echo "avoidable stdlib parts:"
"$dir/sizereport" -heavy "$dir/ours.sym"
