package fw

import (
	"errors"
	"fmt"
	"github.com/vpnpass/vpnpass/vpn"
	"reflect"
	"strings"
	"syscall"
	"testing"

	nf "github.com/vpnpass/vpnpass/netfilter"
)

// fakeBackend records the desired states it was given and returns one
// change per non-default protocol not yet installed.
type fakeBackend struct {
	kind      nf.Kind
	installed nf.Desired
	applied   []nf.Desired
	failApply bool
	applyErr  error // returned by Apply when set (failApply: a generic one)
	cleaned   bool
}

func (f *fakeBackend) Kind() nf.Kind { return f.kind }

func (f *fakeBackend) Plan(d nf.Desired) ([]nf.Change, error) {
	var out []nf.Change
	for _, p := range vpn.Toggled {
		if f.installed.Mode(p) != d.Mode(p) {
			out = append(out, nf.Change{Action: "add", Backend: f.kind, Protocol: p})
		}
	}
	return out, nil
}

func (f *fakeBackend) Apply(d nf.Desired) ([]nf.Change, error) {
	f.applied = append(f.applied, d)
	if f.applyErr != nil {
		return nil, f.applyErr
	}
	if f.failApply {
		return nil, errors.New("boom")
	}
	ch, _ := f.Plan(d)
	f.installed = nf.Desired{}
	for p, m := range d {
		f.installed[p] = m
	}
	return ch, nil
}

func (f *fakeBackend) Cleanup() error { f.cleaned = true; return nil }

var _ nf.Backend = (*fakeBackend)(nil)

func TestManagerRoutesBlocksToPrimaryOnly(t *testing.T) {
	p, x := &fakeBackend{kind: nf.KindFW4}, &fakeBackend{kind: nf.KindIptablesNft}
	var forgotten []vpn.Protocol
	m, err := NewManager([]Sub{{Primary, p}, {Extra, x}}, nil, func(ps []vpn.Protocol) error { forgotten = append(forgotten, ps...); return nil })
	if err != nil {
		t.Fatal(err)
	}
	d := nf.Desired{vpn.IPsec: nf.ModeAllow, vpn.PPTP: nf.ModeBlock}
	if _, err := m.Apply(d); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.applied[0], d) {
		t.Errorf("primary got %v, want %v", p.applied[0], d)
	}
	if !reflect.DeepEqual(x.applied[0], nf.Desired{vpn.IPsec: nf.ModeAllow}) {
		t.Errorf("extra got %v, want the allow only", x.applied[0])
	}
	if !reflect.DeepEqual(forgotten, []vpn.Protocol{vpn.PPTP, vpn.IPsec}) {
		t.Errorf("forgotten flows of %v, want pptp and ipsec once each", forgotten)
	}
	if ch, _ := m.Plan(d); len(ch) != 0 {
		t.Errorf("after Apply, Plan = %v, want no drift", ch)
	}
	forgotten = nil
	if _, err := m.Apply(d); err != nil || len(forgotten) != 0 {
		t.Errorf("second Apply: err %v, forgot %v; want nothing changed", err, forgotten)
	}
}

func TestManagerReportsFailuresButAppliesTheRest(t *testing.T) {
	p, x := &fakeBackend{kind: nf.KindFW4, failApply: true}, &fakeBackend{kind: nf.KindIptablesNft}
	m, _ := NewManager([]Sub{{Primary, p}, {Extra, x}}, nil, nil)
	if _, err := m.Apply(nf.Desired{vpn.L2TP: nf.ModeAllow}); err == nil {
		t.Fatal("Apply hid the primary's failure")
	}
	if len(x.applied) != 1 {
		t.Fatal("a failing primary stopped the extra from getting its allow")
	}
	if err := m.Cleanup(); err != nil || !p.cleaned || !x.cleaned {
		t.Fatal("Cleanup did not reach every backend")
	}
}

func TestNewManagerNeedsPrimaryFirst(t *testing.T) {
	if _, err := NewManager([]Sub{{Extra, &fakeBackend{}}}, nil, nil); err == nil {
		t.Fatal("accepted a manager without a primary")
	}
}

// TestManagerForgetsOnModeChangesOnly: re-adding rules a firewall reload
// removed (drift repair) must not delete conntrack entries, or live VPN
// sessions are cut; a mode change forgets that protocol alone, in one call.
func TestManagerForgetsOnModeChangesOnly(t *testing.T) {
	d := nf.Desired{vpn.IPsec: nf.ModeAllow, vpn.PPTP: nf.ModeAllow}
	for _, tc := range []struct {
		name     string
		baseline nf.Desired
		steps    func(m *Manager, p *fakeBackend)
		want     [][]vpn.Protocol
	}{
		{"start from nothing forgets the non-default modes", nil,
			func(m *Manager, p *fakeBackend) { m.Apply(d) }, [][]vpn.Protocol{{vpn.PPTP, vpn.IPsec}}},
		{"repairs after reloads forget nothing", d, func(m *Manager, p *fakeBackend) {
			for i := 0; i < 5; i++ {
				p.installed = nf.Desired{} // a reload removed our rules
				if ch, _ := m.Apply(d); len(ch) == 0 {
					panic("fake: no repair")
				}
			}
		}, nil},
		{"a mode change forgets that protocol only", d, func(m *Manager, p *fakeBackend) {
			m.Apply(nf.Desired{vpn.IPsec: nf.ModeAllow, vpn.PPTP: nf.ModeBlock})
			m.Apply(nf.Desired{vpn.IPsec: nf.ModeAllow, vpn.PPTP: nf.ModeBlock})
		}, [][]vpn.Protocol{{vpn.PPTP}}},
		{"several changes at once: one call", d, func(m *Manager, p *fakeBackend) {
			m.Apply(nf.Desired{vpn.L2TP: nf.ModeBlock})
		}, [][]vpn.Protocol{{vpn.PPTP, vpn.L2TP, vpn.IPsec}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &fakeBackend{kind: nf.KindNftables, installed: nf.Desired{}}
			var calls [][]vpn.Protocol
			m, err := NewManager([]Sub{{Primary, p}}, tc.baseline, func(ps []vpn.Protocol) error { calls = append(calls, ps); return nil })
			if err != nil {
				t.Fatal(err)
			}
			tc.steps(m, p)
			if !reflect.DeepEqual(calls, tc.want) {
				t.Errorf("forget calls %v, want %v", calls, tc.want)
			}
		})
	}
}

// TestRetireKeepsSharedTools: a switch between nft kinds (nftables to fw4)
// must not run the old backend's Cleanup (it would delete the new one's
// table and rules); a tool the new manager no longer uses is cleaned.
func TestRetireKeepsSharedTools(t *testing.T) {
	for _, tc := range []struct {
		name      string
		old, next []nf.Kind
		cleaned   []bool
	}{
		{"nftables to fw4", []nf.Kind{nf.KindNftables}, []nf.Kind{nf.KindFW4}, []bool{false}},
		{"fw4 to nothing (nftables)", []nf.Kind{nf.KindFW4}, []nf.Kind{nf.KindNftables}, []bool{false}},
		{"fw3 to fw4", []nf.Kind{nf.KindFW3, nf.KindNftables}, []nf.Kind{nf.KindFW4}, []bool{true, false}},
		{"fw4 with iptables-nft extra to fw4", []nf.Kind{nf.KindFW4, nf.KindIptablesNft}, []nf.Kind{nf.KindFW4}, []bool{false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mk := func(kinds []nf.Kind) (*Manager, []*fakeBackend) {
				var subs []Sub
				var fakes []*fakeBackend
				for i, k := range kinds {
					f := &fakeBackend{kind: k}
					r := Extra
					if i == 0 {
						r = Primary
					}
					subs, fakes = append(subs, Sub{r, f}), append(fakes, f)
				}
				m, err := NewManager(subs, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				return m, fakes
			}
			old, fakes := mk(tc.old)
			next, _ := mk(tc.next)
			if err := old.Retire(next); err != nil {
				t.Fatal(err)
			}
			for i, f := range fakes {
				if f.cleaned != tc.cleaned[i] {
					t.Errorf("%s cleaned = %v, want %v", f.kind, f.cleaned, tc.cleaned[i])
				}
			}
		})
	}
}

// TestApplyNamesTheFix: the kernel's refusals become errors that say what
// to do: no nf_tables (EPROTONOSUPPORT from the nft backends), no rights.
func TestApplyNamesTheFix(t *testing.T) {
	tests := []struct {
		kind nf.Kind
		err  error
		want string
	}{
		{nf.KindFW4, fmt.Errorf("add table: %w", syscall.EPROTONOSUPPORT), "install kmod-nft-core"},
		{nf.KindNftables, fmt.Errorf("flush: %w", syscall.EPROTONOSUPPORT), "set option backend 'fw3'"},
		{nf.KindIptablesLegacy, fmt.Errorf("iptables: %w", syscall.EPERM), "needs root"},
	}
	for _, tc := range tests {
		m, _ := NewManager([]Sub{{Primary, &fakeBackend{kind: tc.kind, applyErr: tc.err}}}, nil, nil)
		_, err := m.Apply(nf.Desired{vpn.PPTP: nf.ModeAllow})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want it to say %q", tc.kind, err, tc.want)
		}
		t.Logf("%s prints: %v", tc.kind, err)
	}
}
