//go:build !linux

package conntrack

import (
	"context"
	"errors"
	"github.com/vpnpass/vpnpass/vpn"
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

// DeleteFootprints is only available on Linux.
func DeleteFootprints(match []FlowMatch) (int, error) { return 0, errNotLinux }

// Observer manages the observer table; only available on Linux.
type Observer struct{ NetNS int }

// Ensure is only available on Linux.
func (o Observer) Ensure(lanDevices []string) error { return errNotLinux }

// Read is only available on Linux.
func (o Observer) Read() ([]vpn.ObserverEntry, error) { return nil, errNotLinux }

// Remove is only available on Linux.
func (o Observer) Remove() error { return errNotLinux }

// EnsureObserver is only available on Linux.
func EnsureObserver(lanDevices []string) error { return errNotLinux }

// ReadObserver is only available on Linux.
func ReadObserver() ([]vpn.ObserverEntry, error) { return nil, errNotLinux }

// RemoveObserver is only available on Linux.
func RemoveObserver() error { return errNotLinux }
