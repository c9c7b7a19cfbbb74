package fw

import (
	"net/netip"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
)

// InspectInbound judges, per protocol and server, whether a client's first
// packets from the WAN reach the server: over IPv4 through a DNAT on
// prerouting (nftables only: iptables' nat table is not inspected, so an
// iptables firewall makes the answer uncertain) and the forward hook, over
// IPv6 through the forward hook alone.
func InspectInbound(o InboundOptions) (map[vpn.Protocol][]netfilter.InboundStatus, error) {
	src, err := detectAndRead()
	if err != nil {
		return nil, err
	}
	j, err := newInboundJudge(src, o)
	if err != nil {
		return nil, err
	}
	out := map[vpn.Protocol][]netfilter.InboundStatus{}
	for _, p := range vpn.Toggled {
		out[p] = []netfilter.InboundStatus{}
	}
	for _, s := range o.Servers {
		for _, p := range s.Protocols {
			if _, ok := out[p]; ok {
				out[p] = append(out[p], j.server(s.Addr.Unmap(), p))
			}
		}
	}
	return out, nil
}

// inboundJudge holds one read of the firewalls and the hooks' chains.
type inboundJudge struct {
	src firewalls
	o   InboundOptions
	// chains by hook (forward, input) and family (IPv4, IPv6): arrays, no maps.
	chains [2][2][]netfilter.Chain
	// memo: IPsec and L2TP share their elements; each is walked once.
	memo map[inboundKey]inboundResult
}

// Indexes of inboundJudge.chains.
const (
	hookForward, hookInput = 0, 1
	famV4, famV6           = 0, 1
)

type inboundKey struct {
	addr netip.Addr
	el   vpn.Element
}

type inboundResult struct {
	to      netip.Addr
	ex      netfilter.Explanation
	helpers []string // ct helpers prerouting assigned (IPv4)
}

func newInboundJudge(src firewalls, o InboundOptions) (*inboundJudge, error) {
	j := &inboundJudge{src: src, o: o, memo: map[inboundKey]inboundResult{}}
	for h, hook := range [...]string{hookForward: "forward", hookInput: "input"} {
		for f, fam := range [...]vpn.Family{famV4: vpn.IPv4, famV6: vpn.IPv6} {
			for _, ins := range src.inspectors() {
				cs, err := ins.Chains(hook, fam)
				if err != nil {
					return nil, err
				}
				j.chains[h][f] = append(j.chains[h][f], cs...)
			}
		}
	}
	return j, nil
}
