//go:build !linux

package ipt

import (
	"github.com/vpnpass/vpnpass/internal/platform"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
)

// Backend is the iptables backend; on this OS it cannot be opened.
type Backend struct{}

var _ netfilter.Backend = (*Backend)(nil)

// New fails: iptables exists only on Linux.
func New(Options) (*Backend, error) { return nil, platform.ErrNotLinux }

// Kind names the backend.
func (b *Backend) Kind() netfilter.Kind { return netfilter.KindIptablesLegacy }

// Families lists nothing here.
func (b *Backend) Families() []vpn.Family { return nil }

// Plan fails off Linux.
func (b *Backend) Plan(netfilter.Desired) ([]netfilter.Change, error) {
	return nil, platform.ErrNotLinux
}

// Apply fails off Linux.
func (b *Backend) Apply(netfilter.Desired) ([]netfilter.Change, error) {
	return nil, platform.ErrNotLinux
}

// Cleanup has nothing to do off Linux.
func (b *Backend) Cleanup() error { return nil }

// Cleanup has nothing to do off Linux.
func Cleanup() error { return nil }

// Available is false off Linux.
func Available(string) bool { return false }

// Inspector reads iptables rules; on this OS it cannot be opened.
type Inspector struct{ Kind netfilter.Kind }

var _ netfilter.Inspector = (*Inspector)(nil)

// NewInspector fails off Linux.
func NewInspector(string) (*Inspector, error) { return nil, platform.ErrNotLinux }

// Chains fails off Linux.
func (in *Inspector) Chains(string, vpn.Family) ([]netfilter.Chain, error) {
	return nil, platform.ErrNotLinux
}

// HelperAssignments fails off Linux.
func (in *Inspector) HelperAssignments() ([]HelperAssignment, error) {
	return nil, platform.ErrNotLinux
}

// Masquerade fails off Linux.
func (in *Inspector) Masquerade(string) (bool, error) { return false, platform.ErrNotLinux }
