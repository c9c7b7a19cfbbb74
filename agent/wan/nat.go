// Package wan finds the router's WAN (device, addresses, gateway), decides
// from its addressing whether another NAT sits upstream (double NAT,
// carrier-grade NAT, IPv4 shared over IPv6 by MAP-E or DS-Lite), optionally
// confirms it with STUN, NAT-PMP and UPnP IGD, and watches netlink for
// changes. Classification is pure (Classify); discovery sits behind
// InterfaceSource so tests and OpenWrt's ubus can feed it.
package wan

import (
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"
	"slices"
)

// Class is the kind of the WAN's IPv4 addressing (Nat.class, docs/interface.md#nat).
type Class string

// Classes.
const (
	ClassPublic    Class = "public"
	ClassPrivate   Class = "private"    // RFC 1918: another NAT router upstream
	ClassCGNAT     Class = "cgnat"      // RFC 6598 shared address space
	ClassLinkLocal Class = "link-local" // 169.254.0.0/16: no address from upstream
	ClassReserved  Class = "reserved"   // documentation, benchmarking, other special ranges
	ClassMAPE      Class = "map-e"      // IPv4 shared over IPv6 (also MAP-T, lw4o6)
	ClassDSLite    Class = "ds-lite"    // IPv4 tunnelled to the ISP's carrier NAT
)

// How a verdict was confirmed (Nat.confirmed_by).
const (
	confirmedAddress = "address"
	confirmedSTUN    = "stun"
	confirmedNATPMP  = "nat-pmp"
	confirmedIGD     = "igd"
)

// Nat is the API's Nat object (docs/interface.md#nat). Class and Code are empty when the WAN has
// no IPv4 address (down, or IPv6 only without MAP-E/DS-Lite); Message says so.
type Nat struct {
	WANDevice     string      `json:"wan_device"`
	Addresses     []string    `json:"addresses"`
	Gateway       string      `json:"gateway"`
	Class         Class       `json:"class"`
	Code          vpn.NATCode `json:"code"`
	ConfirmedBy   []string    `json:"confirmed_by"`
	PublicAddress string      `json:"public_address"`
	Upstream      Upstream    `json:"upstream"`
	IPv6Global    bool        `json:"ipv6_global"`
	Message       string      `json:"message"`
	Advice        string      `json:"advice"`

	// Probes holds the active checks behind the verdict, errors included,
	// for logs and the CLI; it is not part of the JSON object.
	Probes Probes `json:"-"`
}

// Upstream is the NAT box above the router; empty strings when unknown.
type Upstream struct {
	Address string `json:"address"`
	Model   string `json:"model"`
}

// Probes are the results of the active checks; nil means not run.
type Probes struct {
	STUN   *STUNResult
	NATPMP *ExternalResult
	IGD    *ExternalResult
}

// STUNResult is one STUN exchange.
type STUNResult struct {
	_ [0]func() // not comparable: no generated equality function (binary size)

	Server string
	Local  netip.AddrPort
	Mapped netip.AddrPort
	Err    error
}

// ExternalResult is an upstream gateway's answer (NAT-PMP or IGD).
type ExternalResult struct {
	_ [0]func() // not comparable: no generated equality function (binary size)

	Gateway  netip.Addr // who answered
	External netip.Addr // its external IPv4 address
	Model    string     // IGD model name
	Err      error
}

// Same reports whether two verdicts agree in everything the JSON shows.
func (n Nat) Same(o Nat) bool {
	return n.WANDevice == o.WANDevice && slices.Equal(n.Addresses, o.Addresses) &&
		n.Gateway == o.Gateway && n.Class == o.Class && n.Code == o.Code &&
		slices.Equal(n.ConfirmedBy, o.ConfirmedBy) && n.PublicAddress == o.PublicAddress &&
		n.Upstream == o.Upstream &&
		n.IPv6Global == o.IPv6Global && n.Message == o.Message && n.Advice == o.Advice
}
