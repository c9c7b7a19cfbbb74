//go:build !linux

package nft

import (
	"github.com/vpnpass/vpnpass/internal/platform"
	"github.com/vpnpass/vpnpass/netfilter"
)

// Options configures a Backend (only usable on Linux).
type Options struct {
	Kind         netfilter.Kind
	LANDevices   []string
	WAN          netfilter.WAN
	Root         string
	AutoIncludes bool
}

// Backend is unavailable off Linux.
type Backend struct{}

var _ netfilter.Backend = (*Backend)(nil)

// New validates opts, then reports that nftables needs Linux.
func New(opts Options) (*Backend, error) {
	if _, err := validate(opts.Kind, opts.LANDevices, opts.WAN, opts.Root, opts.AutoIncludes); err != nil {
		return nil, err
	}
	return nil, platform.ErrNotLinux
}

func (b *Backend) Close() error         { return nil }
func (b *Backend) Kind() netfilter.Kind { return "" }
func (b *Backend) Persistent() bool     { return false }
func (b *Backend) Plan(netfilter.Desired) ([]netfilter.Change, error) {
	return nil, platform.ErrNotLinux
}
func (b *Backend) Apply(netfilter.Desired) ([]netfilter.Change, error) {
	return nil, platform.ErrNotLinux
}
func (b *Backend) Cleanup() error { return platform.ErrNotLinux }
