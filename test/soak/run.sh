#!/usr/bin/env bash
# `make soak`: the router-life tests of issue 15 at their long counts (not in
# CI, not in `make test`): 200 kill -9s, 500 fw4 reloads under a live tunnel,
# 16k/65k conntrack tables, 1,000 WAN changes over at least 30 minutes.
# Prints each test's table at the end; the full log stays in $SOAK_LOG.
#   VPNPASS_SOAK=<n>        a count of your own instead of the defaults
#   VPNPASS_SOAK_MINUTES=m  the flapping soak's minimum length (default 30)
#   SOAK_RUN=<regexp>       which tests (default all TestLife*)
set -uo pipefail
cd "$(dirname "$0")/../.."
export VPNPASS_SOAK="${VPNPASS_SOAK:-1}"
log="${SOAK_LOG:-$(mktemp /tmp/vpnpass-soak-XXXXXX.log)}"
run="${SOAK_RUN:-TestLife}"
echo "soak: go test -run '$run' ./test/e2e/ (VPNPASS_SOAK=$VPNPASS_SOAK), log in $log"
start=$(date +%s)
go test -count=1 -v -timeout 4h -parallel 1 -run "$run" ./test/e2e/ >"$log" 2>&1
rc=$?
echo
echo "== soak tables ($(( ($(date +%s) - start) / 60 )) min, exit $rc) =="
# Each test logs its table as a title line "(issue 15 §n)" and indented rows.
awk '/\(issue 15 §[0-9]\)/ {p=1; print; next} p && /^          / {print; next} {p=0}' "$log"
grep -E '^(--- (PASS|FAIL)|FAIL|ok )' "$log"
exit $rc
