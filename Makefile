# vpnpass — see README.md. `make demo` runs the lab with the agent inside it;
# `make test` passes the tests (installs what it needs; run as root).
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
PKG := github.com/vpnpass/vpnpass/agent/cli
LDFLAGS := -X $(PKG).version=$(VERSION) -X $(PKG).commit=$(COMMIT)

.PHONY: all build cross test test-go test-vm test-openwrt vet demo deps go123 ipk i18n clean fuzz-short soak-fuzz bench soak

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/vpnpass ./cmd/vpnpass

cross:
	VERSION=$(VERSION) ./build/cross.sh

deps:
	./build/deps.sh

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The OpenWrt 24.10 SDK builds with Go 1.23 and GOTOOLCHAIN=local.
go123:
	GOTOOLCHAIN=go1.23.12 $(GO) build ./...

test-go: build
	CI=$${CI:-} $(GO) test -count=1 -timeout 20m ./...

VM_TARGETS ?=
VM_RUN ?=
# The kernel-facing tests on big-endian MIPS, mipsel and s390x kernels under
# full-system qemu (build/vm/README.md says what a pass proves).
test-vm:
	VPNPASS_VM_RUN="$(VM_RUN)" ./build/vm/test-vm.sh $(VM_TARGETS)

# vpnpass against the real OpenWrt userland (ubusd, rpcd, uhttpd, uci, ucode,
# firewall4) built from upstream into VPNPASS_OPENWRT_ROOT, outside this
# repository: docs/openwrt-testing.md lists the components and commits.
VPNPASS_OPENWRT_ROOT ?= /var/cache/vpnpass-openwrt/root
test-openwrt: build
	@test -x "$(VPNPASS_OPENWRT_ROOT)/usr/sbin/rpcd" || { echo "test-openwrt: no built OpenWrt userland at" \
	  "VPNPASS_OPENWRT_ROOT=$(VPNPASS_OPENWRT_ROOT) (needs usr/sbin/{ubusd,rpcd,uhttpd}, usr/bin/{ubus,uci,ucode}," \
	  "usr/lib/{libubox,libubus,libuci,libustream-ssl,uhttpd_ubus}.so, usr/share/firewall4);" \
	  "see docs/openwrt-testing.md" >&2; exit 1; }
	VPNPASS_OPENWRT_ROOT="$(VPNPASS_OPENWRT_ROOT)" VPNPASS_BIN="$(CURDIR)/bin/vpnpass" \
	  $(GO) test -count=1 -v -timeout 20m ./test/openwrt/...

# Every fuzz target briefly (the checked-in corpora already run as unit
# tests in test-go); soak-fuzz runs each for FUZZTIME (10 minutes: about
# 3 hours in all) and is part of the soak, not of make test.
FUZZTIME ?= 10m
fuzz-short:
	./build/fuzz.sh 1s

soak-fuzz:
	./build/fuzz.sh $(FUZZTIME)

# The router-life tests of issue 15 at their long counts (hours; not in CI):
# kill -9 ×200, fw4 churn under a live tunnel ×500, 16k/65k conntrack
# tables, WAN flapping ×1,000 over ≥30 min. test/soak/run.sh prints the tables.
soak: build
	./test/soak/run.sh
	$(MAKE) soak-fuzz

test: deps vet test-go fuzz-short go123 cross test-vm
	./build/qemu-version.sh

demo: deps build
	$(GO) run ./test/demo --vpnpass "$(CURDIR)/bin/vpnpass"

# Every benchmark in one run (sizes, toggle, inspect, storm, agent RSS and
# history, LuCI poll on the host and in the big-endian MIPS VM, ours beside
# Debian's nft and conntrack in the mipsel VM), one table with
# the anchor and ratio beside each figure (test/bench-all.sh; not in make test;
# needs root). BENCH_PARTS picks parts: make bench BENCH_PARTS="size poll".
BENCH_PARTS ?=
bench: deps
	./test/bench-all.sh $(BENCH_PARTS)

# OpenWrt packages in dist/: vpnpass_<ver>_<arch>.ipk (mips_24kc, mipsel_24kc,
# arm_cortex-a7_neon-vfpv4, aarch64_cortex-a53, x86_64), luci-app-vpnpass, luci-i18n-vpnpass-ja.
ipk: cross
	VERSION=$(VERSION) ./build/ipk/build.sh

# Regenerate the LuCI view's protocol names and finding texts from vpn/ and
# diagnose/catalog.go, then the translation template from the view and the
# menu (build/i18n's test fails when either is stale).
i18n:
	$(GO) run ./build/i18n

clean:
	rm -rf bin dist
