package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// TestdataEnv names a directory that overrides where ReadTestdata looks
// (for binaries run away from the source tree, e.g. in a VM).
const TestdataEnv = "VPNPASS_TESTDATA"

// ReadTestdata reads a shared fixture from test/testdata: from $VPNPASS_TESTDATA
// if set, else from the first test/testdata found walking up from the
// working directory (tests of any package, the demo run from the tree), else
// next to this source file.
func ReadTestdata(name string) ([]byte, error) {
	var tried []string
	for _, dir := range testdataDirs() {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if err == nil {
			return b, nil
		}
		tried = append(tried, p)
	}
	return nil, fmt.Errorf("fixture %s not found (tried %v; set %s)", name, tried, TestdataEnv)
}

func testdataDirs() []string {
	var dirs []string
	if d := os.Getenv(TestdataEnv); d != "" {
		dirs = append(dirs, d)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dirs = append(dirs, filepath.Join(d, "test", "testdata"))
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		dirs = append(dirs, filepath.Join(filepath.Dir(file), "..", "testdata"))
	}
	return dirs
}
