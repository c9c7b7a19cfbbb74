package fw

import (
	"errors"
	"strconv"

	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/ipt"
	"github.com/vpnpass/vpnpass/netfilter/nft"
	"github.com/vpnpass/vpnpass/netfilter/observer"
)

// Open detects the firewalls of the calling thread's network namespace and
// builds the composed backend: the firewall in charge plus every other one
// whose forward chain could drop an allowed footprint.
func Open(o Options) (*Manager, Detection, error) {
	det, err := Detect()
	if err != nil {
		return nil, det, err
	}
	specs, err := Plan(det, o.Backend)
	if err != nil {
		return nil, det, err
	}
	m, err := OpenSpecs(specs, det, o)
	return m, det, err
}

// OpenSpecs builds the composed backend for specs chosen from det (Plan).
// It changes nothing in the kernel.
func OpenSpecs(specs []Spec, det Detection, o Options) (*Manager, error) {
	subs := make([]Sub, 0, len(specs))
	for _, s := range specs {
		b, err := build(s, det, o)
		if err != nil {
			return nil, netfilter.Wrap("open "+string(s.Kind)+" backend", err)
		}
		subs = append(subs, Sub{Role: s.Role, Backend: b})
	}
	return NewManager(subs, o.Baseline, o.Forget)
}

func build(s Spec, det Detection, o Options) (netfilter.Backend, error) {
	k := s.Kind
	switch k {
	case netfilter.KindFW4, netfilter.KindNftables:
		return nft.New(nft.Options{Kind: k, LANDevices: o.LANDevices, WAN: o.WAN,
			Root: o.Root, AutoIncludes: o.AutoIncludes})
	case netfilter.KindFW3, netfilter.KindIptablesLegacy, netfilter.KindIptablesNft:
		v := variantOf(det, k)
		if k == netfilter.KindIptablesLegacy {
			v = ipt.VariantLegacy
		}
		return ipt.New(ipt.Options{Variant: v, FW3: k == netfilter.KindFW3,
			LANDevices: o.LANDevices, WAN: o.WAN, NoHelper: s.Role == Extra})
	}
	return nil, errors.New("no backend for firewall kind " + strconv.Quote(string(k)))
}

// CleanupAll removes everything vpnpass ever added, on every backend, without
// needing the configuration: our nftables tables and tagged rules, the
// observer table, the helper probe tables a killed probe left, the fw4
// include, and our iptables chains and tagged rules in both variants and
// families. It works after a crash or a backend switch.
func CleanupAll(root string) error {
	det, err := Detect()
	if err != nil {
		det.NFTables = true // cannot tell: try nftables too
	}
	return errors.Join(err, CleanupBeside(nil, det, root, false))
}

// CleanupBeside removes what an earlier run may have left that m (nil:
// none) does not manage, after m has applied over the rest: a crashed
// agent's rules are adopted the way a restart hands them over, so the
// router is never without them, and only the tools m no longer uses are
// cleaned (every tagged rule of ours there, as CleanupAll). The helper
// probe tables a killed probe left always go; the observer table goes
// unless keepObserver (the agent is about to ensure it). Untagged rules
// are never touched.
func CleanupBeside(m *Manager, det Detection, root string, keepObserver bool) error {
	var uses [2]bool
	if m != nil {
		for _, s := range m.subs {
			uses[toolClass(s.Backend.Kind())] = true
		}
	}
	var errs []error
	if det.NFTables {
		if !uses[classNft] {
			// Cleanup ignores LAN devices: it removes whatever carries our tag.
			b, err := nft.New(nft.Options{Kind: netfilter.KindNftables, LANDevices: []string{"lo"}, Root: root})
			if err == nil {
				err = b.Cleanup()
			}
			if err != nil {
				slicex.Errors(&errs, netfilter.Wrap("cleanup nftables", err))
			}
		}
		if !keepObserver {
			if err := observer.Remove(); err != nil {
				slicex.Errors(&errs, netfilter.Wrap("cleanup nftables", err))
			}
		}
		if err := nft.RemoveProbeTables(); err != nil {
			slicex.Errors(&errs, netfilter.Wrap("cleanup nftables", err))
		}
	}
	if !uses[classIptables] {
		if err := ipt.Cleanup(); err != nil {
			slicex.Errors(&errs, netfilter.Wrap("cleanup iptables", err))
		}
	}
	return errors.Join(errs...)
}
