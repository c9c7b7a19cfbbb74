// Package vpn is the vocabulary of the domain, defined once: the VPN
// protocols (toggled and observed-only), the pieces of their footprints with
// IP protocols, ports and match strings, display names, and the NAT and
// severity codes of docs/interface.md. It imports nothing of ours, so the
// firewall (netfilter), the kernel's flow watch (conntrack), the diagnosis
// and the agent all speak it. Adding a protocol starts with one entry in
// protocols (and in All, and Toggled when vpnpass toggles it: a test
// checks them against the table) and its parts in parts (footprint.go).
package vpn

import (
	"fmt"
	"strings"
)

// Protocol is a VPN protocol, as the API spells it (docs/interface.md).
type Protocol string

// The protocols. OpenVPN and WireGuard are only observed: vpnpass diagnoses
// them but has no passthrough to toggle for them.
const (
	PPTP      Protocol = "pptp"
	L2TP      Protocol = "l2tp"
	IPsec     Protocol = "ipsec"
	OpenVPN   Protocol = "openvpn"
	WireGuard Protocol = "wireguard"
)

// protocolInfo is one row of the protocol table.
type protocolInfo struct {
	p    Protocol
	name string // display name
	// singleFlow: control and data travel in one flow (no separate data
	// plane such as ESP or GRE).
	singleFlow bool
}

// protocols is the table, in display order: All's.
var protocols = []protocolInfo{
	{p: PPTP, name: "PPTP"},
	{p: L2TP, name: "L2TP", singleFlow: true},
	{p: IPsec, name: "IPsec"},
	{p: OpenVPN, name: "OpenVPN", singleFlow: true},
	{p: WireGuard, name: "WireGuard", singleFlow: true},
}

// All lists every protocol vpnpass knows, toggled first (the table's
// order; TestProtocolLists checks it). Literals rather than lists built
// from the table at start: static data instead of init code.
var All = []Protocol{PPTP, L2TP, IPsec, OpenVPN, WireGuard}

// Toggled lists the protocols whose passthrough vpnpass toggles (it can
// turn it on and off), in their stable display order: All's first ones.
var Toggled = []Protocol{PPTP, L2TP, IPsec}

func info(p Protocol) (none protocolInfo, _ bool) {
	for _, i := range protocols {
		if i.p == p {
			return i, true
		}
	}
	return none, false
}

// Name is the protocol's display name ("IPsec"); "" for an unknown one.
func (p Protocol) Name() string {
	i, _ := info(p)
	return i.name
}

// SingleFlow reports whether the protocol carries control and data in one
// flow (L2TP, OpenVPN, WireGuard).
func (p Protocol) SingleFlow() bool {
	i, _ := info(p)
	return i.singleFlow
}

// ParseProtocol validates the name of a toggled protocol; the error lists
// the valid ones.
func ParseProtocol(s string) (Protocol, error) {
	names := make([]string, len(Toggled))
	for i, p := range Toggled {
		if string(p) == s {
			return p, nil
		}
		names[i] = string(p)
	}
	return "", fmt.Errorf("unknown protocol %q: must be one of %s", s, strings.Join(names, ", "))
}

// incomparable, as a struct's first field, makes the struct not comparable
// with ==: the compiler then generates no equality function for it (a few
// hundred bytes of code each on mips, referenced by the type's descriptor
// although nothing calls it).
type incomparable [0]func()
