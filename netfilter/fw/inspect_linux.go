package fw

import (
	"fmt"

	"github.com/google/nftables"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/ipt"
	"github.com/vpnpass/vpnpass/netfilter/nfteval"
)

// Inspect reads every firewall of the calling thread's network namespace
// (nftables over netlink, iptables through go-iptables) and evaluates each
// protocol's footprint through all forward chains together.
func Inspect(o InspectOptions) (Inspection, error) {
	var in Inspection
	det, err := Detect()
	if err != nil {
		return in, err
	}
	in.Detection = det
	chains, err := forwardChains(det)
	if err != nil {
		return in, err
	}
	in.Protocols = evaluateProtocols(chains, o)
	in.FlowOffload = "none"
	return in, nil
}

// forwardChains gathers the forward base chains of every firewall, per family.
func forwardChains(det Detection) (map[netfilter.Family][]netfilter.Chain, error) {
	var inspectors []netfilter.Inspector
	xtables := false
	if det.NFTables {
		conn, err := nftables.New()
		if err != nil {
			return nil, fmt.Errorf("inspect: open nftables netlink: %w", err)
		}
		rs, err := nfteval.Read(conn)
		if err != nil {
			return nil, fmt.Errorf("inspect: %w", err)
		}
		inspectors = append(inspectors, rs)
		xtables = len(rs.XtablesTables()) > 0
	}
	variants := []string{}
	if det.Legacy {
		variants = append(variants, ipt.VariantLegacy)
	}
	if xtables {
		variants = append(variants, ipt.VariantNft)
	}
	for _, v := range variants {
		if !ipt.Available(v) {
			continue
		}
		ins, err := ipt.NewInspector(v)
		if err != nil {
			return nil, fmt.Errorf("inspect iptables-%s: %w", v, err)
		}
		inspectors = append(inspectors, ins)
	}
	out := map[netfilter.Family][]netfilter.Chain{}
	for _, fam := range []netfilter.Family{netfilter.IPv4, netfilter.IPv6} {
		for _, ins := range inspectors {
			cs, err := ins.Chains("forward", fam)
			if err != nil {
				return nil, fmt.Errorf("inspect forward chains (%s): %w", fam, err)
			}
			out[fam] = append(out[fam], cs...)
		}
	}
	return out, nil
}

// Explain evaluates one packet through the forward chains of every firewall.
func Explain(p netfilter.Packet) (netfilter.Explanation, error) {
	det, err := Detect()
	if err != nil {
		return netfilter.Explanation{}, err
	}
	chains, err := forwardChains(det)
	if err != nil {
		return netfilter.Explanation{}, err
	}
	return netfilter.EvaluateHook(chains[p.Family], p), nil
}
