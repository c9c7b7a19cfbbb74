//go:build !linux

package nft

import (
	"context"
	"errors"
	"fmt"

	"github.com/vpnpass/vpnpass/internal/platform"
)

// ErrNoMonitor wraps the error of WatchRuleset when the kernel refuses the
// monitor: callers then poll instead.
var ErrNoMonitor = errors.New("no nftables monitor")

// WatchRuleset needs Linux netfilter.
func WatchRuleset(ctx context.Context) (<-chan struct{}, error) {
	return nil, fmt.Errorf("watch ruleset: %w", platform.ErrNotLinux)
}
