//go:build !linux

package helpers

import (
	"fmt"

	"github.com/vpnpass/vpnpass/internal/platform"
)

// Probe needs Linux netfilter.
func Probe(o Options) (Report, error) {
	return Report{}, fmt.Errorf("probe helpers: %w", platform.ErrNotLinux)
}

// Load needs Linux.
func Load(module string) error { return fmt.Errorf("load module: %w", platform.ErrNotLinux) }
