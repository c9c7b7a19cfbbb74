//go:build !linux

package fw

import (
	"fmt"

	"github.com/vpnpass/vpnpass/internal/platform"
)

// Detect needs Linux netfilter.
func Detect() (Detection, error) {
	return Detection{}, fmt.Errorf("detect firewall: %w", platform.ErrNotLinux)
}
