//go:build !linux

package nft

import (
	"fmt"

	"github.com/vpnpass/vpnpass/internal/platform"
)

// ProbeTablePrefix names the throw-away tables of ProbeCtHelper.
const ProbeTablePrefix = "vpnpass_probe_"

// ProbeCtHelper needs Linux netfilter.
func ProbeCtHelper(name string, l4 uint8) (bool, error) {
	return false, fmt.Errorf("probe ct helper %s: %w", name, platform.ErrNotLinux)
}

// RemoveProbeTables needs Linux netfilter.
func RemoveProbeTables() error { return fmt.Errorf("remove probe tables: %w", platform.ErrNotLinux) }
