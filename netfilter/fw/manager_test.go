package fw

import (
	"errors"
	"reflect"
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
	cleaned   bool
}

func (f *fakeBackend) Kind() nf.Kind { return f.kind }

func (f *fakeBackend) Plan(d nf.Desired) ([]nf.Change, error) {
	var out []nf.Change
	for _, p := range nf.Protocols {
		if f.installed.Mode(p) != d.Mode(p) {
			out = append(out, nf.Change{Action: "add", Backend: f.kind, Protocol: p})
		}
	}
	return out, nil
}

func (f *fakeBackend) Apply(d nf.Desired) ([]nf.Change, error) {
	f.applied = append(f.applied, d)
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
	var forgotten []nf.Protocol
	m, err := NewManager([]Sub{{Primary, p}, {Extra, x}}, func(pr nf.Protocol) error { forgotten = append(forgotten, pr); return nil })
	if err != nil {
		t.Fatal(err)
	}
	d := nf.Desired{nf.IPsec: nf.ModeAllow, nf.PPTP: nf.ModeBlock}
	if _, err := m.Apply(d); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.applied[0], d) {
		t.Errorf("primary got %v, want %v", p.applied[0], d)
	}
	if !reflect.DeepEqual(x.applied[0], nf.Desired{nf.IPsec: nf.ModeAllow}) {
		t.Errorf("extra got %v, want the allow only", x.applied[0])
	}
	if !reflect.DeepEqual(forgotten, []nf.Protocol{nf.PPTP, nf.IPsec}) {
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
	m, _ := NewManager([]Sub{{Primary, p}, {Extra, x}}, nil)
	if _, err := m.Apply(nf.Desired{nf.L2TP: nf.ModeAllow}); err == nil {
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
	if _, err := NewManager([]Sub{{Extra, &fakeBackend{}}}, nil); err == nil {
		t.Fatal("accepted a manager without a primary")
	}
}
