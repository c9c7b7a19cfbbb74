package ipt

import (
	"net"

	"github.com/vpnpass/vpnpass/netfilter"
)

// HostValues lists the source and destination prefixes and source MACs
// the rules of this chain's table compare with (netfilter.HostValue).
func (c *baseChain) HostValues() []netfilter.HostValue {
	var out []netfilter.HostValue
	for _, ch := range c.snap.chains {
		for _, r := range ch.Rules {
			out = appendAddr(out, netfilter.FieldSaddr, "-s", r.Src)
			out = appendAddr(out, netfilter.FieldDaddr, "-d", r.Dst)
			for _, m := range r.Matches {
				for _, o := range m.Opts {
					if m.Module != "mac" || o.Name != "mac-source" {
						continue
					}
					if mac, err := net.ParseMAC(firstVal(o.Vals)); err == nil {
						m := mac.String()
						netfilter.AddHostValues(&out, netfilter.HostValue{Field: netfilter.FieldEtherSaddr, MAC: mac,
							Match: "-m mac --mac-source " + m, Value: m})
					}
				}
			}
		}
	}
	return out
}

func appendAddr(out []netfilter.HostValue, field, flag string, m addrMatch) []netfilter.HostValue {
	if !m.Set || !m.Prefix.IsValid() {
		return out
	}
	p := m.Prefix.Masked()
	v := p.String()
	netfilter.AddHostValues(&out, netfilter.HostValue{Field: field, Lo: p.Addr(), Hi: netfilter.LastAddr(p), Match: flag + " " + v, Value: v})
	return out
}

func firstVal(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
