package ipt

import (
	"errors"
	"sync"

	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
)

var _ netfilter.Backend = (*Backend)(nil)

// Backend is the netfilter.Backend for one iptables variant, IPv4 and IPv6.
type Backend struct {
	opts Options
	fams []*family

	mu sync.Mutex
	// afterOp, when set (tests only), runs after each op of Apply; an error
	// makes Apply fail there and roll back.
	afterOp func(i int, o op) error
}

// family is one address family of the variant.
type family struct {
	_    [0]func() // never compared: no generated eq function
	fam  vpn.Family
	name string // "iptables" / "ip6tables"
	run  runner
	// legacy: only the tables /proc lists exist (listing another would
	// create it); otherwise (nft) list freely: that creates nothing.
	legacy bool
}

// New opens the variant's iptables and ip6tables. IPv6 is left out when
// ip6tables of the variant is not installed (or, for legacy, the kernel has
// no ip6_tables): IPv4 alone is still served.
func New(opts Options) (*Backend, error) {
	if err := checkVariant(opts.Variant); err != nil {
		return nil, err
	}
	b := &Backend{opts: opts}
	for _, f := range []vpn.Family{vpn.IPv4, vpn.IPv6} {
		fm, err := openFamily(opts.Variant, f, opts.wait())
		if err != nil {
			if f == vpn.IPv6 {
				continue
			}
			return nil, netfilter.Wrap("iptables backend ("+opts.Variant+")", err)
		}
		b.fams = append(b.fams, fm)
	}
	return b, nil
}

func openFamily(variant string, f vpn.Family, wait int) (*family, error) {
	if variant == VariantLegacy {
		if _, ok, err := legacyTables(f); err != nil || !ok {
			return nil, errors.New(famName(f) + "-legacy: kernel has no x_tables for " + string(f))
		}
	}
	ipt, err := newIPT(variant, f, wait)
	if err != nil {
		return nil, err
	}
	return &family{fam: f, name: famName(f), run: ipt, legacy: variant == VariantLegacy}, nil
}

// Kind returns fw3, iptables-legacy or iptables-nft.
func (b *Backend) Kind() netfilter.Kind { return b.opts.kind() }

// Families lists the families this backend serves.
func (b *Backend) Families() []vpn.Family {
	out := make([]vpn.Family, len(b.fams))
	for i, f := range b.fams {
		out[i] = f.fam
	}
	return out
}

// Plan reads the installed state and returns the changes Apply(d) would make.
func (b *Backend) Plan(d netfilter.Desired) ([]netfilter.Change, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ops, _, err := b.plan(d)
	if err != nil {
		return nil, err
	}
	return b.changes(ops), nil
}

func (b *Backend) changes(ops []op) []netfilter.Change {
	out := make([]netfilter.Change, 0, len(ops))
	for _, o := range ops {
		netfilter.AddChanges(&out, o.change(b.Kind()))
	}
	return out
}

// plan returns the ops for d and the state they were computed from, by
// family in b.fams order.
func (b *Backend) plan(d netfilter.Desired) ([]op, []famState, error) {
	if err := checkDesired(d); err != nil {
		return nil, nil, netfilter.Wrap(string(b.Kind()), err)
	}
	var states []famState
	var ops []op
	for _, f := range b.fams {
		st, err := f.read()
		if err != nil {
			return nil, nil, netfilter.Wrap(string(b.Kind())+": read "+f.name, err)
		}
		states = append(states, st)
		l := desiredLayout(d, f.fam, b.opts.LANDevices, b.opts.WAN.Devices(f.fam))
		if b.opts.NoHelper {
			l.helper = nil
		}
		addOps(&ops, diffFamily(f.name, st, l, b.opts.FW3)...)
	}
	return ops, states, nil
}

// read reads the tables we write in this family: filter, and raw for IPv4
// (the pptp helper is IPv4 only).
func (f *family) read() (famState, error) {
	var exist map[string]bool
	if f.legacy {
		var err error
		if exist, _, err = legacyTables(f.fam); err != nil {
			return nil, err
		}
	}
	st := famState{}
	tables := []string{tableFilter}
	if f.fam == vpn.IPv4 {
		slicex.Strings(&tables, tableRaw)
	}
	for _, t := range tables {
		ts, err := readTable(f.run, t, exist == nil || exist[t])
		if err != nil {
			return nil, err
		}
		st[t] = ts
	}
	return st, nil
}

func (b *Backend) family(name string) *family {
	for _, f := range b.fams {
		if f.name == name {
			return f
		}
	}
	return nil
}
