package diagnose

import (
	json "github.com/vpnpass/vpnpass/internal/jsonx"
	"github.com/vpnpass/vpnpass/internal/tstamp"
	"github.com/vpnpass/vpnpass/vpn"
	"time"

	"github.com/vpnpass/vpnpass/netfilter"
)

// Code names a finding; LuCI translates messages by code and params.
type Code string

// Finding codes (docs/interface.md#doctor). Codes after
// CodeOK extend the list where the footprint allows a precise diagnosis.
const (
	CodeFirewallDrops      Code = "firewall-drops"
	CodeHelperUnavailable  Code = "helper-unavailable"
	CodePPTPNoHelper       Code = "pptp-no-helper"
	CodeNATTBlocked        Code = "natt-blocked"
	CodeIKEUnanswered      Code = "ike-unanswered"
	CodeGREBlocked         Code = "gre-blocked"
	CodeESPBlocked         Code = "esp-blocked"
	CodeL2TPUnanswered     Code = "l2tp-unanswered"
	CodeIKEAuthFailed      Code = "ike-auth-failed"
	CodeNATTNotNegotiated  Code = "natt-not-negotiated"
	CodeL2TPWithoutIPsec   Code = "l2tp-without-ipsec"
	CodeESPMultipleClients Code = "esp-multiple-clients"
	CodeDoubleNAT          Code = "vpn-behind-double-nat"
	CodeIPv4Sharing        Code = "ipv4-sharing"
	CodeOK                 Code = "vpn-ok"

	CodePPTPUnanswered      Code = "pptp-unanswered"      // TCP 1723 never answered
	CodeOpenVPNUnanswered   Code = "openvpn-unanswered"   // UDP/TCP 1194 never answered
	CodeWireGuardUnanswered Code = "wireguard-unanswered" // UDP 51820 never answered
	CodeAHThroughNAT        Code = "ah-through-nat"       // AH cannot survive address rewriting
)

// Evidence is one fact behind a finding. Kind is "flow", "rule", "address" or
// "observer"; the other fields are filled as the kind needs. Code is set when
// the fact supports a less specific cause that the finding outranked.
type Evidence struct {
	_    incomparable // hasEvidence compares the JSON: no 1.8 KB equality function
	Kind string       `json:"kind"`
	Code Code         `json:"code,omitempty"`
	Note string       `json:"note,omitempty"`

	// flow and observer
	Proto     string `json:"proto,omitempty"` // udp, tcp, gre, esp, ah
	Src       string `json:"src,omitempty"`
	Dst       string `json:"dst,omitempty"`
	SrcPort   uint16 `json:"sport,omitempty"`
	DstPort   uint16 `json:"dport,omitempty"`
	NATSrc    string `json:"nat_src,omitempty"` // the source the router rewrote to
	State     string `json:"state,omitempty"`   // unreplied, replied, assured, destroyed
	Helper    string `json:"helper,omitempty"`
	SrcKey    uint16 `json:"srckey,omitempty"` // GRE call IDs
	DstKey    uint16 `json:"dstkey,omitempty"`
	Packets   uint64 `json:"packets,omitempty"`
	Bytes     uint64 `json:"bytes,omitempty"`
	RPackets  uint64 `json:"reply_packets,omitempty"`
	RBytes    uint64 `json:"reply_bytes,omitempty"`
	FirstSeen string `json:"first_seen,omitempty"`
	LastSeen  string `json:"last_seen,omitempty"`
	Match     string `json:"match,omitempty"`     // observer element, rule element: udp/4500, esp, udp/4500-ike
	Direction string `json:"direction,omitempty"` // observer: out (LAN to server) or in

	// rule
	Table   string            `json:"table,omitempty"`
	Chain   string            `json:"chain,omitempty"`
	Handle  uint64            `json:"handle,omitempty"`
	Comment string            `json:"comment,omitempty"`
	Verdict netfilter.Verdict `json:"verdict,omitempty"`
	Backend netfilter.Kind    `json:"backend,omitempty"`

	// address
	Address string `json:"address,omitempty"`
	Class   string `json:"class,omitempty"`
	Device  string `json:"device,omitempty"`
}

// Finding is the API's Finding object (docs/interface.md#doctor).
type Finding struct {
	Code      Code
	Severity  vpn.Severity
	Protocol  vpn.Protocol
	Host      string
	HostName  string
	HostMAC   string
	Peer      string
	FirstSeen time.Time
	LastSeen  time.Time
	Message   string
	Advice    string
	Params    map[string]any
	Evidence  []Evidence
}

// findingJSON fixes the field names and order of docs/interface.md#doctor; times are
// RFC 3339 in UTC.
type findingJSON struct {
	Code      Code           `json:"code"`
	Severity  vpn.Severity   `json:"severity"`
	Protocol  vpn.Protocol   `json:"protocol"`
	Host      string         `json:"host"`
	HostName  string         `json:"host_name"`
	HostMAC   string         `json:"host_mac"`
	Peer      string         `json:"peer"`
	FirstSeen string         `json:"first_seen"`
	LastSeen  string         `json:"last_seen"`
	Message   string         `json:"message"`
	Advice    string         `json:"advice"`
	Params    map[string]any `json:"params"`
	Evidence  []Evidence     `json:"evidence"`
}

// MarshalJSON writes the API's shape.
func (f Finding) MarshalJSON() ([]byte, error) {
	j := findingJSON{
		Code: f.Code, Severity: f.Severity, Protocol: f.Protocol,
		Host: f.Host, HostName: f.HostName, HostMAC: f.HostMAC, Peer: f.Peer,
		FirstSeen: rfc3339(&f.FirstSeen), LastSeen: rfc3339(&f.LastSeen),
		Message: f.Message, Advice: f.Advice, Params: f.Params, Evidence: f.Evidence,
	}
	if j.Params == nil {
		j.Params = map[string]any{}
	}
	if j.Evidence == nil {
		j.Evidence = []Evidence{}
	}
	return json.Marshal(j)
}

// DecodeJSON is UnmarshalJSON under internal/jsonx's name for it.
func (f *Finding) DecodeJSON(b []byte) error { return f.UnmarshalJSON(b) }

// UnmarshalJSON reads what MarshalJSON writes (the CLI decodes API results).
func (f *Finding) UnmarshalJSON(b []byte) error {
	var j findingJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	first, err := parseTime(j.FirstSeen)
	if err != nil {
		return err
	}
	last, err := parseTime(j.LastSeen)
	if err != nil {
		return err
	}
	*f = Finding{Code: j.Code, Severity: j.Severity, Protocol: j.Protocol, Host: j.Host,
		HostName: j.HostName, HostMAC: j.HostMAC, Peer: j.Peer, FirstSeen: first, LastSeen: last,
		Message: j.Message, Advice: j.Advice, Params: j.Params, Evidence: j.Evidence}
	return nil
}

// rfc3339 takes t by pointer, as isZero does.
func rfc3339(t *time.Time) string {
	if isZero(t) {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func parseTime(s string) (none time.Time, _ error) {
	if s == "" {
		return none, nil
	}
	return tstamp.ParseRFC3339(s)
}
