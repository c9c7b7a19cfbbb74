package fw

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
)

// Sub is one built sub-backend with its role.
type Sub struct {
	Role    Role
	Backend netfilter.Backend
}

// Manager drives every firewall of the router as one netfilter.Backend.
type Manager struct {
	subs []Sub
	// forget deletes the conntrack entries of the footprints of protocols
	// whose mode changed, so existing flows are re-evaluated: a helper only
	// attaches to new connections, a block must hit established flows, and
	// offloaded flows skip the forward chain until their entry goes.
	forget func([]vpn.Protocol) error
	// applied holds the modes in force: those of the last Apply, or the
	// baseline given at construction. Only a difference from it is a mode
	// change; re-adding rules a firewall reload removed is not, and must
	// not cut live sessions.
	applied netfilter.Desired
}

var _ netfilter.Backend = (*Manager)(nil)

// NewManager composes built sub-backends; the first Primary one is in
// charge. baseline is the modes already in force (nil: none of ours, every
// protocol default); forget is called after an Apply with the protocols
// whose mode differs from the modes in force before it.
func NewManager(subs []Sub, baseline netfilter.Desired, forget func([]vpn.Protocol) error) (*Manager, error) {
	if len(subs) == 0 || subs[0].Role != Primary {
		return nil, errors.New("firewall manager: the first backend must be the primary one")
	}
	return &Manager{subs: subs, forget: forget, applied: copyDesired(baseline)}, nil
}

// Applied returns the modes in force (the last Apply's, or the baseline).
func (m *Manager) Applied() netfilter.Desired { return copyDesired(m.applied) }

// Kind is the kind of the firewall in charge.
func (m *Manager) Kind() netfilter.Kind { return m.subs[0].Backend.Kind() }

// Subs returns the sub-backends (for status and tests).
func (m *Manager) Subs() []Sub { return m.subs }

func (m *Manager) desiredFor(s Sub, d netfilter.Desired) netfilter.Desired {
	if s.Role == Extra {
		return extraDesired(d)
	}
	return d
}

// Plan returns every sub-backend's pending changes; empty means no drift.
func (m *Manager) Plan(d netfilter.Desired) ([]netfilter.Change, error) {
	var all []netfilter.Change
	for _, s := range m.subs {
		ch, err := s.Backend.Plan(m.desiredFor(s, d))
		if err != nil {
			return all, netfilter.Wrap("plan "+string(s.Backend.Kind()), err)
		}
		netfilter.AddChanges(&all, ch...)
	}
	return all, nil
}

// Apply brings every firewall to d, primary first, then forgets the
// conntrack entries of the protocols whose mode changed, in one call. A
// drift repair (same modes, rules put back) forgets nothing.
func (m *Manager) Apply(d netfilter.Desired) ([]netfilter.Change, error) {
	var all []netfilter.Change
	var errs []error
	for _, s := range m.subs {
		ch, err := s.Backend.Apply(m.desiredFor(s, d))
		netfilter.AddChanges(&all, ch...)
		if err != nil {
			slicex.Errors(&errs, fmt.Errorf("apply %s: %w%s", s.Backend.Kind(), err, fixFor(s.Backend.Kind(), err)))
		}
	}
	changed := modeChanges(m.applied, d)
	m.applied = copyDesired(d)
	if m.forget != nil && len(changed) > 0 {
		if err := m.forget(changed); err != nil {
			slicex.Errors(&errs, err)
		}
	}
	return all, errors.Join(errs...)
}

// fixFor names the fix for failures the kernel or the user's rights cause
// (the daemon repeats it in its rate-limited log and history).
func fixFor(k netfilter.Kind, err error) string {
	switch {
	case errors.Is(err, syscall.EPROTONOSUPPORT) && (k == netfilter.KindFW4 || k == netfilter.KindNftables):
		return " (the kernel lacks nf_tables: install kmod-nft-core, or set option backend 'fw3' in /etc/config/vpnpass)"
	case errors.Is(err, syscall.EPERM):
		return " (changing the firewall needs root: CAP_NET_ADMIN)"
	}
	return ""
}

// Cleanup removes everything of ours from every sub-backend.
func (m *Manager) Cleanup() error {
	var errs []error
	for _, s := range m.subs {
		if err := s.Backend.Cleanup(); err != nil {
			slicex.Errors(&errs, netfilter.Wrap("cleanup "+string(s.Backend.Kind()), err))
		}
	}
	return errors.Join(errs...)
}

// modeChanges lists the protocols whose mode differs between from and to.
func modeChanges(from, to netfilter.Desired) []vpn.Protocol {
	var out []vpn.Protocol
	for _, p := range vpn.Toggled {
		if from.Mode(p) != to.Mode(p) {
			out = append(out, p)
		}
	}
	return out
}

func copyDesired(d netfilter.Desired) netfilter.Desired {
	out := netfilter.Desired{}
	for p, m := range d {
		out[p] = m
	}
	return out
}
