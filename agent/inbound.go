package agent

import (
	"net/netip"

	"github.com/vpnpass/vpnpass/agent/config"
	"github.com/vpnpass/vpnpass/agent/wan"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/fw"
	"github.com/vpnpass/vpnpass/vpn"
)

// noInbound is status.inbound with no server: every protocol, no entries.
func noInbound() map[vpn.Protocol][]netfilter.InboundStatus {
	out := map[vpn.Protocol][]netfilter.InboundStatus{}
	for _, p := range vpn.Toggled {
		out[p] = []netfilter.InboundStatus{}
	}
	return out
}

// collectInbound judges the servers of in against the firewall.
func collectInbound(src Sources, in StatusInput, nat wan.Nat) (map[vpn.Protocol][]netfilter.InboundStatus, error) {
	if src.Inbound == nil || len(in.Servers) == 0 {
		return noInbound(), nil
	}
	o := fw.InboundOptions{LANDevices: in.LANDevices, WANDevice: nat.WANDevice, Servers: in.Servers}
	for _, a := range nat.Addresses {
		if p, err := parseHostAddr(a); err == nil && p.Is4() {
			o.WANAddr = p
			break
		}
	}
	return src.Inbound(o)
}

// configServers lists the `config server` sections as servers to judge:
// each address with the section's protocols.
func configServers(cfg config.Config) []fw.InboundServer {
	var out []fw.InboundServer
	for _, s := range cfg.Servers {
		for _, a := range s.Addresses {
			out = addServer(out, a, s.Protocols...)
		}
	}
	return out
}

// addServer adds protocols to the server at a, or a new server.
func addServer(list []fw.InboundServer, a netip.Addr, ps ...vpn.Protocol) []fw.InboundServer {
	a = a.Unmap()
	for i := range list {
		if list[i].Addr == a {
			for _, p := range ps {
				if !hasProto(list[i].Protocols, p) {
					list[i].Protocols = append(list[i].Protocols, p)
				}
			}
			return list
		}
	}
	return append(list, fw.InboundServer{Addr: a, Protocols: append([]vpn.Protocol(nil), ps...)})
}

func hasProto(ps []vpn.Protocol, p vpn.Protocol) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// parseHostAddr reads an address written plain or with its prefix length.
func parseHostAddr(s string) (netip.Addr, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Addr(), nil
	}
	return netip.ParseAddr(s)
}
