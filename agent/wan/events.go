package wan

import (
	"github.com/vpnpass/vpnpass/vpn"
	"slices"
	"strings"
)

// Event kinds (docs/interface.md#history) and the change words carried in
// Details["change"] of a nat.changed event.
const (
	KindWANChanged = "wan.changed"
	KindNATChanged = "nat.changed"

	ChangeDouble  = "nat.double"
	ChangeCGNAT   = "nat.cgnat"
	ChangeSharing = "nat.ipv4_sharing"
	ChangeCleared = "nat.cleared" // the verdict is back to nat-ok
	ChangeUnknown = "nat.unknown" // no IPv4 on the WAN any more
)

// Event is a change worth recording; the agent maps it to a history event.
type Event struct {
	Kind     string         `json:"kind"`
	Severity vpn.Severity   `json:"severity"` // info or warning
	Message  string         `json:"message"`
	Details  map[string]any `json:"details"`
}

// Diff lists the events between two verdicts. prev nil means the first look
// after start: then only a NAT problem is reported (a nat.changed with the
// problem's change word), since agent.started already marks the moment.
func Diff(prev, next *Nat) []Event {
	var out []Event
	if prev != nil && wanMoved(prev, next) {
		out = append(out, Event{
			Kind:     KindWANChanged,
			Severity: vpn.SeverityInfo,
			Message:  "WAN changed: " + describeWAN(prev) + " → " + describeWAN(next) + ".",
			Details: fields(
				"wan_device", next.WANDevice, "addresses", nonNil(next.Addresses), "gateway", next.Gateway,
				"previous_wan_device", prev.WANDevice, "previous_addresses", nonNil(prev.Addresses),
				"previous_gateway", prev.Gateway,
			),
		})
	}
	prevCode := vpn.NATCode("")
	if prev != nil {
		prevCode = prev.Code
	}
	if prevCode == next.Code || (prev == nil && (next.Code == vpn.NATOK || next.Code == "")) {
		return out
	}
	change, severity := changeWord(next.Code)
	details := fields(
		"change", change, "code", string(next.Code), "class", string(next.Class),
		"previous_code", string(prevCode), "confirmed_by", nonNil(next.ConfirmedBy),
		"public_address", next.PublicAddress, "upstream_address", next.Upstream.Address,
		"upstream_model", next.Upstream.Model, "wan_device", next.WANDevice,
	)
	if prev != nil {
		details["previous_class"] = string(prev.Class)
	}
	msg := next.Message
	if change == ChangeCleared {
		msg = "NAT problem cleared: " + msg
	}
	return append(out, Event{Kind: KindNATChanged, Severity: severity, Message: msg, Details: details})
}

func changeWord(c vpn.NATCode) (string, vpn.Severity) {
	switch c {
	case vpn.NATDouble:
		return ChangeDouble, vpn.SeverityWarning
	case vpn.NATCGNAT:
		return ChangeCGNAT, vpn.SeverityWarning
	case vpn.NATIPv4Sharing:
		return ChangeSharing, vpn.SeverityWarning
	case vpn.NATOK:
		return ChangeCleared, vpn.SeverityInfo
	}
	return ChangeUnknown, vpn.SeverityInfo
}

func wanMoved(a, b *Nat) bool {
	return a.WANDevice != b.WANDevice || a.Gateway != b.Gateway || !slices.Equal(a.Addresses, b.Addresses)
}

func describeWAN(n *Nat) string {
	if n.WANDevice == "" {
		return "none"
	}
	s := n.WANDevice
	if len(n.Addresses) > 0 {
		s += " " + strings.Join(n.Addresses, ", ")
	}
	if n.Gateway != "" {
		s += " via " + n.Gateway
	}
	return s
}

// fields builds a details map from name, value pairs: one loop instead of a
// map assignment per literal entry (binary size).
func fields(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2+1)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
