//go:build !linux

package fw

import (
	"fmt"

	"github.com/vpnpass/vpnpass/internal/platform"

	"github.com/vpnpass/vpnpass/netfilter"
)

// Open needs Linux netfilter.
func Open(o Options) (*Manager, Detection, error) {
	return nil, Detection{}, fmt.Errorf("open firewall: %w", platform.ErrNotLinux)
}

// OpenSpecs needs Linux netfilter.
func OpenSpecs(specs []Spec, det Detection, o Options) (*Manager, error) {
	return nil, fmt.Errorf("open firewall: %w", platform.ErrNotLinux)
}

// CleanupAll needs Linux netfilter.
func CleanupAll(root string) error { return fmt.Errorf("cleanup: %w", platform.ErrNotLinux) }

// CleanupBeside needs Linux netfilter.
func CleanupBeside(*Manager, Detection, string, bool) error {
	return fmt.Errorf("cleanup: %w", platform.ErrNotLinux)
}

// Inspect needs Linux netfilter.
func Inspect(o InspectOptions) (Inspection, error) {
	return Inspection{}, fmt.Errorf("inspect: %w", platform.ErrNotLinux)
}

// Explain needs Linux netfilter.
func Explain(p netfilter.Packet) (netfilter.Explanation, error) {
	return netfilter.Explanation{}, fmt.Errorf("explain: %w", platform.ErrNotLinux)
}

// Generation needs Linux netfilter.
func Generation() (uint32, error) {
	return 0, fmt.Errorf("nftables generation: %w", platform.ErrNotLinux)
}

// LegacyFilter: no iptables off Linux.
func LegacyFilter() bool { return false }
