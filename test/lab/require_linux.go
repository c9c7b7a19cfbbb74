package lab

import (
	"os"
	"os/exec"
	"testing"
)

// Require skips the test unless it runs as root on a kernel with network
// namespaces. Under CI=true a missing prerequisite fails the test instead:
// CI must never silently skip the kernel tests.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "lab: needs root (network namespaces)")
	}
	if _, err := os.Stat("/proc/self/ns/net"); err != nil {
		skipOrFail(t, "lab: kernel without network namespaces: %v", err)
	}
}

// RequireTools skips (fails under CI=true) when a binary that one of the
// firewall options runs in the router is missing, e.g. in a busybox VM.
func RequireTools(t testing.TB, fws ...Firewall) {
	t.Helper()
	for _, f := range fws {
		for _, tool := range toolsFor(f) {
			if _, err := exec.LookPath(tool); err != nil {
				skipOrFail(t, "lab: firewall %s needs %s: %v", f, tool, err)
			}
		}
	}
}

func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// RequireBinaries skips the test (fails it under CI=true) unless every named
// program is on PATH: tests that set up or cross-check with nft, conntrack
// or iptables cannot run in the minimal VMs, which have none of them.
func RequireBinaries(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			skipOrFail(t, "lab: test needs %s: %v", n, err)
		}
	}
}
