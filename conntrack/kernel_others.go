//go:build !linux

package conntrack

import (
	"context"

	"github.com/vpnpass/vpnpass/internal/platform"
)

// Watch is only available on Linux.
func Watch(ctx context.Context, cfg WatchConfig, events chan<- Event) error {
	return platform.ErrNotLinux
}

// Run is only available on Linux.
func (w *Watcher) Run(ctx context.Context, events chan<- Event) error { return platform.ErrNotLinux }

// DumpFootprint is only available on Linux.
func DumpFootprint(netns int) ([]Flow, error) { return nil, platform.ErrNotLinux }

// EnableAccounting is only available on Linux.
func EnableAccounting() (bool, error) { return false, platform.ErrNotLinux }

// DeleteFootprints is only available on Linux.
func DeleteFootprints(match []FlowMatch) (int, error) { return 0, platform.ErrNotLinux }

// Refresh is only available on Linux.
func Refresh(flows []Flow) ([]Flow, error) { return nil, platform.ErrNotLinux }
