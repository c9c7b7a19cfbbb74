package nfteval

import (
	"slices"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter"
)

// Assignment is a rule that assigns a conntrack helper (`ct helper set`).
type Assignment struct {
	Family  string `json:"family"`
	Table   string `json:"table"`
	Chain   string `json:"chain"`
	Handle  uint64 `json:"handle"`
	Comment string `json:"comment,omitempty"`
	Object  string `json:"object"` // the ct helper object's name
	Helper  string `json:"helper"` // its helper type, "pptp"
	L4Proto uint8  `json:"l4proto"`
	// Ports are the destination ports the rule matches (cmp or set);
	// empty when it matches none explicitly.
	Ports []uint16 `json:"ports,omitempty"`
	// IPv4Only is true when the object or the rule is limited to IPv4.
	IPv4Only bool `json:"ipv4_only"`
	// Hooks are the base chain hooks the rule is reachable from; empty
	// means no base chain leads to it, so it assigns nothing.
	Hooks []string `json:"hooks"`
}

// HelperAssignments lists the rules of every table that assign a ct helper
// object of helperType ("pptp"), as fw4's helper_lan chain or our own table
// does, with the ports they match and the hooks that reach them.
func (rs *Ruleset) HelperAssignments(helperType string) []Assignment {
	var out []Assignment
	for _, t := range rs.Tables {
		if t.Dormant() {
			continue
		}
		var reach map[*Chain][]string
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				a, ok := assignment(t, r, helperType)
				if !ok {
					continue
				}
				if reach == nil {
					reach = t.reachability()
				}
				a.Hooks = append([]string{}, reach[c]...)
				out = append(out, a)
			}
		}
	}
	return out
}

func assignment(t *Table, r *Rule, helperType string) (Assignment, bool) {
	for _, e := range r.Exprs {
		o, ok := e.(*expr.Objref)
		if !ok || o.Type != objCtHelper {
			continue
		}
		h := t.Helper(o.Name)
		if h == nil || h.Type != helperType {
			continue
		}
		a := Assignment{Family: t.Family, Table: t.Name, Chain: r.Chain.Name, Handle: r.Handle,
			Comment: r.Comment, Object: h.Name, Helper: h.Type, L4Proto: h.L4Proto}
		a.Ports = dports(t, r)
		a.IPv4Only = t.Family == "ip" || h.L3Proto == unix.NFPROTO_IPV4 || matchesNfproto(r, unix.NFPROTO_IPV4)
		return a, true
	}
	return Assignment{}, false
}

// dports collects the destination ports a rule matches with `th dport N`
// or `th dport { ... }` (one-field, exact sets).
func dports(t *Table, r *Rule) []uint16 {
	var ports []uint16
	portReg := uint32(0)
	for _, e := range r.Exprs {
		switch x := e.(type) {
		case *expr.Payload:
			portReg = 0
			if x.OperationType == expr.PayloadLoad && x.Base == expr.PayloadBaseTransportHeader && x.Offset == 2 && x.Len == 2 {
				portReg = x.DestRegister
			}
		case *expr.Cmp:
			if portReg != 0 && x.Register == portReg && x.Op == expr.CmpOpEq && len(x.Data) == 2 {
				ports = append(ports, binaryutil.BigEndian.Uint16(x.Data))
			}
		case *expr.Lookup:
			if s := t.Set(x.SetName); portReg != 0 && x.SourceRegister == portReg && !x.Invert && s != nil && !s.Interval() {
				for _, el := range s.Elements {
					if len(el.Key) >= 2 {
						ports = append(ports, binaryutil.BigEndian.Uint16(el.Key))
					}
				}
			}
		}
	}
	sortPorts(ports)
	return ports
}

// sortPorts sorts ascending through slices.Sort on ints: the binary has
// that instance already, a less and a swap closure would be new code.
func sortPorts(ports []uint16) {
	n := make([]int, len(ports))
	for i, p := range ports {
		n[i] = int(p)
	}
	slices.Sort(n)
	for i, v := range n {
		ports[i] = uint16(v)
	}
}

// matchesNfproto reports a `meta nfproto <fam>` match in the rule.
func matchesNfproto(r *Rule, fam byte) bool {
	reg := uint32(0)
	for _, e := range r.Exprs {
		switch x := e.(type) {
		case *expr.Meta:
			reg = 0
			if !x.SourceRegister && x.Key == expr.MetaKeyNFPROTO {
				reg = x.Register
			}
		case *expr.Cmp:
			if reg != 0 && x.Register == reg && x.Op == expr.CmpOpEq && len(x.Data) == 1 && x.Data[0] == fam {
				return true
			}
		}
	}
	return false
}

// Masquerade reports whether IPv4 traffic leaving through wanDevice can
// reach a masquerade statement in a NAT postrouting chain, following jumps
// and gotos (fw4: srcnat → srcnat_wan). Matches on what a representative
// packet does not fix (source address, protocol) count as possibly taken:
// `ip saddr 192.168.1.0/24 oifname "eth1" masquerade` masquerades.
func (rs *Ruleset) Masquerade(wanDevice string) bool {
	p := netfilter.Packet{Family: vpn.IPv4, OutIf: wanDevice, CtState: "new"}
	isMasq := func(e expr.Any) bool {
		switch x := e.(type) {
		case *expr.Masq:
			return true
		case *expr.Target:
			return x.Name == "MASQUERADE"
		}
		return false
	}
	for _, t := range rs.Tables {
		if t.Dormant() || !familyApplies(t.Family, vpn.IPv4) {
			continue
		}
		for _, c := range t.Chains {
			if c.Hook != "postrouting" || c.Type != "nat" {
				continue
			}
			ev := &evaluator{t: t, k: newPkt(p, c.Hook, t.ifindex())}
			if reach, _ := ev.mayReach(c, isMasq, 0); reach {
				return true
			}
		}
	}
	return false
}

// FlowOffload says whether forwarded flows can be offloaded: "none", or
// "software"/"hardware" when a flowtable exists and a `flow add @ft` rule
// reachable from a forward base chain references it ("hardware" when that
// flowtable has the offload flag).
func (rs *Ruleset) FlowOffload() string {
	out := "none"
	for _, t := range rs.Tables {
		if t.Dormant() || len(t.Flowtables) == 0 {
			continue
		}
		reach := t.reachability()
		for _, c := range t.Chains {
			if !contains(reach[c], "forward") {
				continue
			}
			for _, r := range c.Rules {
				for _, e := range r.Exprs {
					if fo, ok := e.(*expr.FlowOffload); ok {
						out = maxOffload(out, t.flowtable(fo.Name))
					}
				}
			}
		}
	}
	return out
}

func (t *Table) flowtable(name string) *Flowtable {
	for _, f := range t.Flowtables {
		if f.Name == name {
			return f
		}
	}
	return nil
}

func maxOffload(cur string, f *Flowtable) string {
	switch {
	case f == nil:
		return cur
	case f.Hardware():
		return "hardware"
	case cur == "none":
		return "software"
	}
	return cur
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
