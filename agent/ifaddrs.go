package agent

import (
	"net/netip"

	"github.com/vpnpass/vpnpass/internal/sock"
)

// routerAddrs reads the router's own addresses and the networks (masked)
// of the devices lans, in lans' order; a device that is gone contributes
// nothing. One rtnetlink read for both (internal/sock: net.Interfaces
// would link net's interface tables).
func routerAddrs(lans []string) (own []netip.Addr, lan []netip.Prefix) {
	links, _ := sock.Links()
	for _, l := range links {
		for _, p := range l.Prefixes {
			own = append(own, p.Addr())
		}
	}
	for _, name := range lans {
		for _, l := range links {
			if l.Name != name {
				continue
			}
			for _, p := range l.Prefixes {
				lan = append(lan, p.Masked())
			}
		}
	}
	return own, lan
}
