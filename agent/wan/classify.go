package wan

import (
	"github.com/vpnpass/vpnpass/internal/slicex"
	"github.com/vpnpass/vpnpass/vpn"
	"net/netip"
	"strings"
)

// Input is everything a verdict is made from.
type Input struct {
	Info Info
	// PublicRanges count as public whatever range they fall in (config
	// `list public_range`).
	PublicRanges []netip.Prefix
	// Network is OpenWrt's interface config, for MAP-E and DS-Lite; nil off OpenWrt.
	Network []NetInterface
	// Probes are the active checks run, if any.
	Probes Probes
}

// verdict is the working state while a Nat is built.
type verdict struct {
	in       Input
	nat      Nat
	v4       netip.Addr
	why      string // words for the class of v4
	sharing  sharing
	stunSays string // what an active check adds to the message
	notes    []string
}

// Classify decides the verdict. It is pure: same input, same Nat.
func Classify(in Input) Nat { return classify(&in) }

// classify is Classify without copying the input.
func classify(in *Input) Nat {
	v := &verdict{in: *in, v4: in.Info.IPv4()}
	v.nat = Nat{
		WANDevice:   in.Info.Device,
		Addresses:   addrStrings(in.Info.Addresses),
		ConfirmedBy: []string{},
		IPv6Global:  hasGlobal6(&in.Info, in.PublicRanges),
		Probes:      in.Probes,
	}
	if in.Info.Gateway.IsValid() {
		v.nat.Gateway = in.Info.Gateway.String()
	}
	v.passive()
	v.applySTUN()
	v.applyGateway(in.Probes.NATPMP, confirmedNATPMP, "NAT-PMP")
	v.applyGateway(in.Probes.IGD, confirmedIGD, "UPnP")
	v.words()
	return v.nat
}

// passive decides from addressing and configuration alone.
func (v *verdict) passive() {
	v.sharing = detectSharing(&v.in.Info, v.in.Network)
	switch {
	case v.sharing.class != "":
		v.nat.Class, v.nat.Code = v.sharing.class, vpn.NATIPv4Sharing
	case !v.v4.IsValid():
		return
	default:
		v.nat.Class, v.why = ClassifyAddr(v.v4, v.in.PublicRanges)
		v.nat.Code = codeFor(v.nat.Class)
	}
	slicex.Strings(&v.nat.ConfirmedBy, confirmedAddress)
	if v.nat.Code == vpn.NATDouble && v.in.Info.Gateway.IsValid() {
		v.nat.Upstream.Address = v.in.Info.Gateway.String()
	}
}

func codeFor(c Class) vpn.NATCode {
	switch c {
	case ClassPublic:
		return vpn.NATOK
	case ClassCGNAT:
		return vpn.NATCGNAT
	case ClassMAPE, ClassDSLite:
		return vpn.NATIPv4Sharing
	}
	// Private, reserved and link-local addresses are not routed on the
	// internet: if anything gets out, a box upstream translates it.
	return vpn.NATDouble
}

// applySTUN: a mapped address other than our own means a NAT upstream.
func (v *verdict) applySTUN() {
	s := v.in.Probes.STUN
	if s == nil || s.Err != nil || !s.Mapped.Addr().Is4() {
		return
	}
	mapped := s.Mapped.Addr()
	if mapped == v.v4 {
		if v.nat.Code == vpn.NATOK || v.nat.Code == vpn.NATIPv4Sharing {
			slicex.Strings(&v.nat.ConfirmedBy, confirmedSTUN)
			v.nat.PublicAddress = mapped.String()
		}
		return
	}
	slicex.Strings(&v.nat.ConfirmedBy, confirmedSTUN)
	v.nat.PublicAddress = mapped.String()
	if v.nat.Code == vpn.NATOK || v.nat.Code == "" {
		v.nat.Code = vpn.NATDouble
		v.stunSays = "the STUN server " + s.Server + " sees this router as " + mapped.String()
	}
}

// applyGateway uses a NAT-PMP or IGD answer: the box that answered does NAT,
// and its external address is where our traffic appears.
func (v *verdict) applyGateway(r *ExternalResult, source, what string) {
	if r == nil {
		return
	}
	if r.Gateway.IsValid() && (r.Model != "" || r.Err == nil) && v.nat.Code != vpn.NATIPv4Sharing {
		v.nat.Upstream.Address = r.Gateway.String()
		if r.Model != "" {
			v.nat.Upstream.Model = r.Model
		}
	}
	if r.Err != nil || !r.External.Is4() || r.External == v.v4 {
		return
	}
	slicex.Strings(&v.nat.ConfirmedBy, source)
	extClass, extWhy := ClassifyAddr(r.External, v.in.PublicRanges)
	if v.nat.PublicAddress == "" && extClass == ClassPublic {
		v.nat.PublicAddress = r.External.String()
	}
	if v.nat.Code == vpn.NATOK || v.nat.Code == "" {
		v.nat.Code = vpn.NATDouble
		if v.stunSays == "" {
			v.stunSays = "the upstream router answered " + what + " with its external address " + r.External.String()
		}
	}
	if extClass == ClassCGNAT || extClass == ClassPrivate {
		v.notes = appendOnce(v.notes, "The upstream router's own WAN address "+r.External.String()+
			" is "+extWhy+" as well: the traffic is translated yet again further up.")
	}
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func addrStrings(ps []netip.Prefix) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		slicex.Strings(&out, p.Addr().String())
	}
	return out
}

func hasGlobal6(info *Info, public []netip.Prefix) bool {
	for _, list := range [][]netip.Prefix{info.Addresses, info.IPv6Addresses} {
		for _, p := range list {
			if IsGlobal6(p.Addr(), public) {
				return true
			}
		}
	}
	return false
}

// sharing is a detected MAP-E / DS-Lite setup.
type sharing struct {
	_ [0]func() // not comparable: no generated equality function (binary size)

	class Class
	what  string // "MAP-E", "MAP-T", "lw4o6", "DS-Lite"
	iface string // OpenWrt interface name, when known
}

// dsLiteB4 is where DS-Lite puts the router's IPv4 end (RFC 6333 5.7).
var dsLiteB4 = special{addr: [4]byte{192, 0, 0, 0}, bits: 29}

// detectSharing finds IPv4 sharing over IPv6: from netifd's protocol, from
// the tunnel device's name or type, or from the network config when the
// IPv4 default route is not (yet) known. An ipip6 tunnel is not sharing: it
// carries a whole, unshared IPv4 address (fixed-IP IPv4-over-IPv6 services).
func detectSharing(info *Info, network []NetInterface) sharing {
	if s, ok := sharingOfProto(info.Proto, "", ""); ok {
		return s
	}
	for i := range network {
		if n := &network[i]; !n.Disabled && info.Device != "" && info.Device == n.TunnelDevice() {
			if s, ok := sharingOfProto(n.Proto, n.Type, n.Name); ok {
				return s
			}
		}
	}
	switch {
	case strings.HasPrefix(info.Device, "map-"):
		return sharing{class: ClassMAPE, what: "MAP-E"}
	case strings.HasPrefix(info.Device, "ds-"):
		return sharing{class: ClassDSLite, what: "DS-Lite"}
	case info.Kind == "ip6tnl" && dsLiteB4.prefix().Contains(info.IPv4()):
		return sharing{class: ClassDSLite, what: "DS-Lite"}
	}
	if info.Device != "" && info.IPv4().IsValid() {
		return sharing{} // IPv4 runs over something else (e.g. PPPoE beside IPoE)
	}
	for i := range network {
		if n := &network[i]; !n.Disabled {
			if s, ok := sharingOfProto(n.Proto, n.Type, n.Name); ok {
				return s
			}
		}
	}
	return sharing{}
}

func sharingOfProto(proto, typ, name string) (none sharing, _ bool) {
	switch proto {
	case "map":
		what := "MAP (" + typ + ")"
		switch typ {
		case "", "map-e":
			what = "MAP-E"
		case "map-t":
			what = "MAP-T"
		case "lw4o6":
			what = "lw4o6"
		}
		return sharing{class: ClassMAPE, what: what, iface: name}, true
	case "dslite":
		return sharing{class: ClassDSLite, what: "DS-Lite", iface: name}, true
	}
	return none, false
}
