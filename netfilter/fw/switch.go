package fw

import (
	"errors"

	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/netfilter"
)

// Specs returns what the manager was built for: each sub-backend's kind and
// role, primary first.
func (m *Manager) Specs() []Spec {
	out := make([]Spec, len(m.subs))
	for i, s := range m.subs {
		out[i] = Spec{Kind: s.Backend.Kind(), Role: s.Role}
	}
	return out
}

// SameSpecs reports whether two spec lists build the same manager.
func SameSpecs(a, b []Spec) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Kind != b[i].Kind || a[i].Role != b[i].Role {
			return false
		}
	}
	return true
}

// toolClass groups the kinds whose Cleanup reaches the same rules: one nft
// backend removes our table and every tagged nft rule (fw4 or not), one
// iptables backend everything of ours in both variants.
// The classes, as indexes of small arrays (no maps).
const (
	classNft = iota
	classIptables
)

func toolClass(k netfilter.Kind) int {
	if k == netfilter.KindFW4 || k == netfilter.KindNftables {
		return classNft
	}
	return classIptables
}

// Retire removes what m placed and next does not take over, after next has
// applied: the sub-backends of a tool (nft, iptables) that next no longer
// uses. Whatever next shares with m is next's now and stays, so the router
// is never without our rules during a switch (e.g. nftables to fw4 when fw4
// starts after the agent: the same tables, rules moved by next's Apply).
func (m *Manager) Retire(next *Manager) error {
	var keep, done [2]bool
	for _, s := range next.subs {
		keep[toolClass(s.Backend.Kind())] = true
	}
	var errs []error
	for _, s := range m.subs {
		c := toolClass(s.Backend.Kind())
		if keep[c] || done[c] {
			continue
		}
		done[c] = true
		if err := s.Backend.Cleanup(); err != nil {
			slicex.Errors(&errs, netfilter.Wrap("retire "+string(s.Backend.Kind()), err))
		}
	}
	return errors.Join(errs...)
}

// Close releases the sub-backends' netlink sockets; the rules stay.
func (m *Manager) Close() {
	for _, s := range m.subs {
		if c, ok := s.Backend.(interface{ Close() error }); ok {
			_ = c.Close()
		}
	}
}
