//go:build !linux

package lab

import (
	"os"
	"testing"
)

// Require skips the test: network namespaces exist only on Linux. Under
// CI=true it fails instead.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("lab: network namespaces need Linux")
	}
	t.Skip("lab: network namespaces need Linux")
}

// RequireBinaries skips: the lab needs Linux.
func RequireBinaries(t testing.TB, names ...string) { Require(t) }
