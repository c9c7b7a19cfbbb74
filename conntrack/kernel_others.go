//go:build !linux

package conntrack

import (
	"context"
	"errors"
)

// errNotLinux is returned by every kernel-facing function off Linux.
var errNotLinux = errors.New("conntrack: only available on Linux")

// Watch is only available on Linux.
func Watch(ctx context.Context, cfg WatchConfig, events chan<- Event) error { return errNotLinux }

// Run is only available on Linux.
func (w *Watcher) Run(ctx context.Context, events chan<- Event) error { return errNotLinux }

// DumpFootprint is only available on Linux.
func DumpFootprint(netns int) ([]Flow, error) { return nil, errNotLinux }

// EnableAccounting is only available on Linux.
func EnableAccounting() (bool, error) { return false, errNotLinux }

// DeleteFootprint is only available on Linux.
func DeleteFootprint(l4 uint8, port uint16) (int, error) { return 0, errNotLinux }
