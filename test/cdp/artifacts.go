package cdp

import (
	"os"
	"sync"
	"testing"
)

// ArtifactsEnv names the directory screenshots are written to; without it
// they go to one temporary directory per test process, printed once. They
// are test output, never committed.
const ArtifactsEnv = "VPNPASS_ARTIFACTS"

var (
	artifactsOnce sync.Once
	artifactsDir  string
	artifactsErr  error
)

// ArtifactsDir returns the directory for test artifacts, creating it.
func ArtifactsDir(t testing.TB) string {
	t.Helper()
	artifactsOnce.Do(func() {
		artifactsDir = os.Getenv(ArtifactsEnv)
		if artifactsDir == "" {
			artifactsDir, artifactsErr = os.MkdirTemp("", "vpnpass-artifacts-")
		} else {
			artifactsErr = os.MkdirAll(artifactsDir, 0o755)
		}
	})
	if artifactsErr != nil {
		t.Fatalf("artifacts directory: %v", artifactsErr)
	}
	t.Logf("artifacts in %s (set %s to choose)", artifactsDir, ArtifactsEnv)
	return artifactsDir
}
