//go:build vpnpass_testhooks

package agent

import "os"

// rootEnv points Paths.Root (the tree holding fw4's include directory and
// our include file) at a test's temp dir, so the end-to-end tests can run
// the binary with fw4's include without touching /usr or /var. Only in
// builds with the vpnpass_testhooks tag.
const rootEnv = "VPNPASS_TEST_ROOT"

func init() {
	testPaths = append(testPaths, func(p *Paths) {
		if r := os.Getenv(rootEnv); r != "" {
			p.Root = r
		}
	})
}
