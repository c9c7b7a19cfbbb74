//go:build !linux

package observer

import (
	"github.com/vpnpass/vpnpass/internal/platform"
	"github.com/vpnpass/vpnpass/vpn"
)

// Table manages the observer table; only available on Linux.
type Table struct{ NetNS int }

// Ensure is only available on Linux.
func (o Table) Ensure(lanDevices []string) error { return platform.ErrNotLinux }

// Read is only available on Linux.
func (o Table) Read() ([]vpn.ObserverEntry, error) { return nil, platform.ErrNotLinux }

// Remove is only available on Linux.
func (o Table) Remove() error { return platform.ErrNotLinux }

// Ensure is only available on Linux.
func Ensure(lanDevices []string) error { return platform.ErrNotLinux }

// Read is only available on Linux.
func Read() ([]vpn.ObserverEntry, error) { return nil, platform.ErrNotLinux }

// Remove is only available on Linux.
func Remove() error { return platform.ErrNotLinux }
