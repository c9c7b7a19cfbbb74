package nfteval

import (
	"net/netip"

	"github.com/vpnpass/vpnpass/internal/slicex"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
)

// Inbound: a client on the WAN reaching a VPN server on the LAN. Over IPv4
// that takes a destination NAT (fw4's redirects render as `dnat` in chain
// dstnat, hook prerouting); the forward hook then sees the rewritten packet
// with `ct status dnat` set.

// ctPriority is NF_IP_PRI_CONNTRACK: conntrack creates the entry there.
const ctPriority = -200

// natSeen is a NAT statement the walk reached, with its target as far as
// the registers know it.
type natSeen struct {
	dnat     bool // dnat or redirect (prerouting); false for snat/masquerade
	redirect bool // to the router itself
	addr     kbytes
	port     kbytes // 2 bytes, network order; empty when the port is kept
}

// noteNAT records the NAT statement e the walk reached.
func (ev *evaluator) noteNAT(e expr.Any) {
	n := &natSeen{addr: &kval{}, port: &kval{}}
	switch x := e.(type) {
	case *expr.Redir:
		n.dnat, n.redirect, n.port = true, true, ev.natReg(x.RegisterProtoMin, 2)
	case *expr.NAT:
		n.dnat, n.port = x.Type == expr.NATTypeDestNAT, ev.natReg(x.RegProtoMin, 2)
		size := 4
		if x.Family == unix.NFPROTO_IPV6 {
			size = 16
		}
		n.addr = ev.natReg(x.RegAddrMin, size)
	}
	ev.nat = n
}

// noteObj records a ct helper assignment the walk reached (a matching
// rule's `ct helper set`): the inbound PPTP control connection needs the
// pptp helper for its GRE to be forwarded.
func (ev *evaluator) noteObj(x *expr.Objref) {
	if x.Type == 3 { // NFT_OBJECT_CT_HELPER
		if h := ev.t.Helper(x.Name); h != nil {
			slicex.Strings(&ev.helpers, h.Type)
		} else {
			slicex.Strings(&ev.helpers, x.Name)
		}
	}
}

func (ev *evaluator) natReg(reg uint32, n int) kbytes {
	if reg == 0 {
		return &kval{}
	}
	v := ev.regs.read(reg, n) // a view into the registers: copy it
	return v.clone()
}

// DNAT is the destination NAT a new inbound packet gets on prerouting.
type DNAT struct {
	// Found is true when a dnat or redirect statement decided.
	Found bool
	// To is the new destination; invalid when a map keyed by something we
	// do not know chose it, or for a redirect (the router itself).
	To       netip.Addr
	Port     uint16 // new destination port; 0 when kept or unknown
	Redirect bool
	By       *netfilter.Decider
	// Helpers are the ct helpers (their kernel names: "pptp") rules on
	// prerouting assigned to the connection.
	Helpers []string
}

// DNATOf runs p (a new packet from the WAN, hook prerouting) through every
// prerouting base chain in priority order, as the kernel does: filter
// chains may drop it, the first nat chain whose walk reaches a dnat or
// redirect binds the connection, later nat chains are skipped. The
// explanation's verdict is Uncertain when a rule we cannot evaluate may
// decide, Drop or Reject when prerouting ends the packet, else Accept.
func (rs *Ruleset) DNATOf(p netfilter.Packet) (DNAT, netfilter.Explanation, error) {
	chains, err := rs.Chains("prerouting", p.Family)
	if err != nil {
		return DNAT{}, netfilter.Explanation{}, err
	}
	out := netfilter.Explanation{Verdict: netfilter.Accept, Path: []netfilter.Step{}}
	var d DNAT
	var helpers []string
	for _, nc := range chains {
		c := nc.(*Chain)
		if c.Type == "nat" && d.Found {
			continue
		}
		w := &walker{ev: evaluator{t: c.Table, k: newPkt(p, c.Hook, c.Table.ifindex())}, base: c}
		ex := w.run()
		netfilter.AddSteps(&out.Path, ex.Path...)
		if c.Priority > ctPriority {
			// Before conntrack there is no entry to attach a helper to.
			slicex.Strings(&helpers, w.ev.helpers...)
		}
		switch ex.Verdict {
		case netfilter.Drop, netfilter.Reject, netfilter.Uncertain:
			if out.Verdict != netfilter.Uncertain {
				out.Verdict, out.DecidedBy = ex.Verdict, ex.DecidedBy
			}
			if ex.Verdict != netfilter.Uncertain {
				return DNAT{Helpers: helpers}, out, nil
			}
		case netfilter.Accept:
			if n := w.ev.nat; c.Type == "nat" && n != nil && n.dnat && ex.DecidedBy != nil && ex.DecidedBy.Policy == "" {
				d = dnatFrom(n, p.Family, ex.DecidedBy)
			}
		}
	}
	d.Helpers = helpers
	return d, out, nil
}

func dnatFrom(n *natSeen, fam vpn.Family, by *netfilter.Decider) DNAT {
	d := DNAT{Found: true, Redirect: n.redirect, By: by}
	size := 4
	if fam == vpn.IPv6 {
		size = 16
	}
	// An `ip` dnat reached by an IPv6 packet (an inet table) holds 4 bytes.
	if n.addr.allKnown() && len(n.addr.v) >= size {
		if a, ok := netip.AddrFromSlice(n.addr.v[:size]); ok {
			d.To = a
		}
	}
	if len(n.port.v) == 2 && n.port.allKnown() {
		d.Port = binaryutil.BigEndian.Uint16(n.port.v)
	}
	return d
}
