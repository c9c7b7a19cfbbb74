#!/usr/bin/env bash
# Quick size check of the release build while working on size (the full
# table with gzip/JFFS2/xz and the floor is test/bench-size.sh, in make bench).
# Builds linux/mips softfloat with the OpenWrt SDK's Go (go1.23.12 through
# GOTOOLCHAIN) and the release flags (-trimpath -gcflags=all=-l -s -w), prints
# the stripped size, the content bytes (sections: moves byte by byte, the
# stripped size moves in 64 KiB steps) and gzip -9, then the per-package
# bytes of an unstripped build of the same flags against the library floor.
# Usage: test/size-quick.sh [rows] [package regexp]   (OUT=dir keeps the builds)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-40}
filter=${2:-.}
out=${OUT:-$(mktemp -d)}
[ -n "${OUT:-}" ] || trap 'rm -rf "$out"' EXIT
mkdir -p "$out"
GOOS= GOARCH= go build -o "$out/sizereport" ./test/testdata/sizereport
b() { GOOS=linux GOARCH=mips GOMIPS=softfloat CGO_ENABLED=0 GOTOOLCHAIN=${GO123:-go1.23.12} \
	go build -trimpath -gcflags=all=-l "$@"; }
b -ldflags='-s -w' -o "$out/vpnpass" ./cmd/vpnpass
b -o "$out/vpnpass.sym" ./cmd/vpnpass
[ -f "$out/floor.sym" ] || b -o "$out/floor.sym" ./test/testdata/sizefloor
s=$(stat -c %s "$out/vpnpass")
printf 'stripped %d (%.3f MiB; budget 4718592)  content %s  gzip -9 %d (budget 1468006)\n' \
	"$s" "$(awk -v b="$s" 'BEGIN{print b/1048576}')" \
	"$("$out/sizereport" -content "$out/vpnpass" | awk '{print $NF}')" "$(gzip -9 -c "$out/vpnpass" | wc -c)"
"$out/sizereport" -n 100000 "$out/vpnpass.sym" "$out/floor.sym" | awk -v f="$filter" -v n="$rows" \
	'NR==1 || /^all symbols|^\.gopclntab/ {print; next} $1 ~ f && c++ < n {print}'
