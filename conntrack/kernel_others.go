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

// Observer manages the observer table; only available on Linux.
type Observer struct{ NetNS int }

// Ensure is only available on Linux.
func (o Observer) Ensure(lanDevices []string) error { return platform.ErrNotLinux }

// Read is only available on Linux.
func (o Observer) Read() ([]ObserverEntry, error) { return nil, platform.ErrNotLinux }

// Remove is only available on Linux.
func (o Observer) Remove() error { return platform.ErrNotLinux }

// EnsureObserver is only available on Linux.
func EnsureObserver(lanDevices []string) error { return platform.ErrNotLinux }

// ReadObserver is only available on Linux.
func ReadObserver() ([]ObserverEntry, error) { return nil, platform.ErrNotLinux }

// RemoveObserver is only available on Linux.
func RemoveObserver() error { return platform.ErrNotLinux }
