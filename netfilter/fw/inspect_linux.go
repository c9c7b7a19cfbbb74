package fw

import (
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/internal/sock"
	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/ipt"
	"github.com/vpnpass/vpnpass/netfilter/nfteval"
)

// Inspect reads every firewall of the calling thread's network namespace
// (nftables over netlink, iptables through ipt.Tool) and evaluates each
// protocol's footprint through all forward chains together.
func Inspect(o InspectOptions) (Inspection, error) {
	var in Inspection
	det, err := Detect()
	if err != nil {
		return in, err
	}
	in.Detection = det
	src, err := readFirewalls(det)
	if err != nil {
		return in, err
	}
	hk, err := src.hooks()
	if err != nil {
		return in, err
	}
	if len(o.LANPrefixes) == 0 {
		o.LANPrefixes = devicePrefixes(o.LANDevices)
	}
	in.Protocols = evaluateHooks(hk, o)
	return in, src.facts(&in, o.WANDevice)
}

// hooks gathers the prerouting and forward base chains of every firewall
// and the host values of the nftables rules.
func (f firewalls) hooks() (Hooks, error) {
	hk := Hooks{Values: map[vpn.Family][]netfilter.HostValue{}}
	var err error
	if hk.Forward, err = f.chains("forward"); err != nil {
		return hk, err
	}
	// iptables is not inspected at prerouting (its mangle may mark, its
	// nat DNAT): with iptables rules in play, what prerouting did is unknown.
	hk.PreroutingUnknown = len(f.ipt) > 0
	// Chains that know the host values of their rules (iptables) add them.
	for fam, cs := range hk.Forward {
		for _, c := range cs {
			if hv, ok := c.(interface{ HostValues() []netfilter.HostValue }); ok {
				hk.Values[fam] = append(hk.Values[fam], hv.HostValues()...)
			}
		}
	}
	if f.rs != nil {
		if hk.Prerouting, err = nftChains(f.rs, "prerouting"); err != nil {
			return hk, err
		}
		for _, fam := range []vpn.Family{vpn.IPv4, vpn.IPv6} {
			hk.Values[fam] = append(hk.Values[fam], f.rs.HostValues(fam)...)
		}
	}
	return hk, nil
}

// EvaluateRuleset is the inspection of an nftables-only ruleset already
// read (prerouting and forward, host values, exceptions).
func EvaluateRuleset(rs *nfteval.Ruleset, o InspectOptions) (map[vpn.Protocol]netfilter.ProtoStatus, error) {
	hk, err := firewalls{rs: rs}.hooks()
	if err != nil {
		return nil, err
	}
	return evaluateHooks(hk, o), nil
}

func nftChains(rs *nfteval.Ruleset, hook string) (map[vpn.Family][]netfilter.Chain, error) {
	out := map[vpn.Family][]netfilter.Chain{}
	for _, fam := range []vpn.Family{vpn.IPv4, vpn.IPv6} {
		cs, err := rs.Chains(hook, fam)
		if err != nil {
			return nil, netfilter.Wrap("inspect "+hook+" chains ("+string(fam)+")", err)
		}
		out[fam] = cs
	}
	return out, nil
}

// devicePrefixes reads the networks of the LAN devices (the calling
// thread's namespace); a device that is gone contributes nothing.
func devicePrefixes(devs []string) []netip.Prefix {
	var out []netip.Prefix
	links, _ := sock.Links()
	for _, d := range devs {
		for _, l := range links {
			if l.Name != d {
				continue
			}
			for _, p := range l.Prefixes {
				if !p.Addr().IsLinkLocalUnicast() {
					out = append(out, p.Masked())
				}
			}
		}
	}
	return out
}

// firewalls is one read of every firewall of the namespace.
type firewalls struct {
	rs  *nfteval.Ruleset // nil without nf_tables
	ipt []*ipt.Inspector
}

// inspectors lists everything that can hand out base chains.
func (f firewalls) inspectors() []netfilter.Inspector {
	var out []netfilter.Inspector
	if f.rs != nil {
		out = append(out, f.rs)
	}
	for _, i := range f.ipt {
		out = append(out, i)
	}
	return out
}

// readFirewalls reads nftables over netlink and prepares an iptables
// inspector for each variant in use.
func readFirewalls(det Detection) (firewalls, error) {
	var f firewalls
	xtables := false
	if det.NFTables {
		var err error
		if f.rs, err = nfteval.Read(0); err != nil {
			return f, netfilter.Wrap("inspect", err)
		}
		xtables = len(f.rs.XtablesTables()) > 0
	}
	variants := []string{}
	if det.Legacy {
		slicex.Strings(&variants, ipt.VariantLegacy)
	}
	if xtables {
		slicex.Strings(&variants, ipt.VariantNft)
	}
	for _, v := range variants {
		if !ipt.Available(v) {
			continue
		}
		ins, err := ipt.NewInspector(v)
		if err != nil {
			return f, netfilter.Wrap("inspect iptables-"+v, err)
		}
		if variantOf(det, netfilter.KindFW3) == v && hasKind(det, netfilter.KindFW3) {
			ins.Kind = netfilter.KindFW3
		}
		f.ipt = append(f.ipt, ins)
	}
	return f, nil
}

// detectAndRead is Detect, then readFirewalls.
func detectAndRead() (firewalls, error) {
	det, err := Detect()
	if err != nil {
		return firewalls{}, err
	}
	return readFirewalls(det)
}

func hasKind(det Detection, k netfilter.Kind) bool {
	for _, h := range det.Hookers {
		if h.Kind == k {
			return true
		}
	}
	return false
}

// chains gathers the base chains of every firewall on hook, per family.
func (f firewalls) chains(hook string) (map[vpn.Family][]netfilter.Chain, error) {
	out := map[vpn.Family][]netfilter.Chain{}
	for _, fam := range []vpn.Family{vpn.IPv4, vpn.IPv6} {
		for _, ins := range f.inspectors() {
			cs, err := ins.Chains(hook, fam)
			if err != nil {
				return nil, netfilter.Wrap("inspect "+hook+" chains ("+string(fam)+")", err)
			}
			out[fam] = append(out[fam], cs...)
		}
	}
	return out, nil
}

// Explain evaluates one packet through the forward chains of every firewall.
func Explain(p netfilter.Packet) (netfilter.Explanation, error) {
	src, err := detectAndRead()
	if err != nil {
		return netfilter.Explanation{}, err
	}
	hk, err := src.hooks()
	if err != nil {
		return netfilter.Explanation{}, err
	}
	if strings.TrimSpace(p.CtState) == "new" && p.Mark == nil && p.CtMark == nil && p.DNAT == nil {
		// A new connection's first packet arrives unmarked and not DNATed;
		// prerouting's chains (run first) say what changes.
		p.Mark, p.CtMark, p.DNAT = netfilter.U32(0), netfilter.U32(0), netfilter.Bool(false)
	}
	return forwardVerdict(hk, p), nil
}

// facts fills masquerade, flow offload and who assigns the pptp helper.
func (f firewalls) facts(in *Inspection, wan string) error {
	in.FlowOffload = "none"
	owners := map[string]bool{}
	if f.rs != nil {
		in.Masquerade = f.rs.Masquerade(wan)
		in.FlowOffload = f.rs.FlowOffload()
		for _, a := range f.rs.HelperAssignments("pptp") {
			if len(a.Hooks) > 0 && (len(a.Ports) == 0 || slices.Contains(a.Ports, 1723)) {
				owners[nftOwner(a.Table)] = true
			}
		}
	}
	for _, i := range f.ipt {
		m, err := i.Masquerade(wan)
		if err != nil {
			return netfilter.Wrap("inspect masquerade", err)
		}
		in.Masquerade = in.Masquerade || m
		as, err := i.HelperAssignments()
		if err != nil {
			return netfilter.Wrap("inspect helper assignments", err)
		}
		for _, a := range as {
			if a.Helper == "pptp" {
				owners[a.Owner] = true
			}
		}
	}
	for o := range owners {
		slicex.Strings(&in.PPTPAssignedBy, o)
	}
	sort.StringSlice(in.PPTPAssignedBy).Sort()
	return nil
}

// nftOwner names who owns a table for "assigned_by": vpnpass, fw4, or the table.
func nftOwner(table string) string {
	switch {
	case strings.HasPrefix(table, netfilter.TablePrefix):
		return "vpnpass"
	case table == "fw4":
		return "fw4"
	}
	return "nftables:" + table
}

// Generation is the nftables ruleset generation (see nfteval.Generation).
func Generation() (uint32, error) { return nfteval.Generation() }
