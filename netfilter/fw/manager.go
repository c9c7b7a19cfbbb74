package fw

import (
	"errors"
	"fmt"

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
	// forget deletes the conntrack entries of a protocol's footprint after
	// its mode changed, so existing flows are re-evaluated: a helper only
	// attaches to new connections, a block must hit established flows, and
	// offloaded flows skip the forward chain until their entry goes.
	forget func(netfilter.Protocol) error
}

var _ netfilter.Backend = (*Manager)(nil)

// NewManager composes built sub-backends; the first Primary one is in charge.
func NewManager(subs []Sub, forget func(netfilter.Protocol) error) (*Manager, error) {
	if len(subs) == 0 || subs[0].Role != Primary {
		return nil, errors.New("firewall manager: the first backend must be the primary one")
	}
	return &Manager{subs: subs, forget: forget}, nil
}

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
			return all, fmt.Errorf("plan %s: %w", s.Backend.Kind(), err)
		}
		all = append(all, ch...)
	}
	return all, nil
}

// Apply brings every firewall to d, primary first, then forgets the
// conntrack entries of each protocol whose rules changed.
func (m *Manager) Apply(d netfilter.Desired) ([]netfilter.Change, error) {
	var all []netfilter.Change
	var errs []error
	for _, s := range m.subs {
		ch, err := s.Backend.Apply(m.desiredFor(s, d))
		all = append(all, ch...)
		if err != nil {
			errs = append(errs, fmt.Errorf("apply %s: %w", s.Backend.Kind(), err))
		}
	}
	if m.forget != nil {
		for _, p := range changedProtocols(all) {
			if err := m.forget(p); err != nil {
				errs = append(errs, fmt.Errorf("forget %s flows: %w", p, err))
			}
		}
	}
	return all, errors.Join(errs...)
}

// Cleanup removes everything of ours from every sub-backend.
func (m *Manager) Cleanup() error {
	var errs []error
	for _, s := range m.subs {
		if err := s.Backend.Cleanup(); err != nil {
			errs = append(errs, fmt.Errorf("cleanup %s: %w", s.Backend.Kind(), err))
		}
	}
	return errors.Join(errs...)
}

func changedProtocols(ch []netfilter.Change) []netfilter.Protocol {
	seen := map[netfilter.Protocol]bool{}
	var out []netfilter.Protocol
	for _, c := range ch {
		if c.Protocol != "" && !seen[c.Protocol] {
			seen[c.Protocol] = true
			out = append(out, c.Protocol)
		}
	}
	return out
}
