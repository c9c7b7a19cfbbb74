package vpn

// Severity of a finding or a history event, as the API spells it
// (docs/interface.md#doctor).
type Severity string

// Severities.
const (
	SeverityOK      Severity = "ok"
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// NATCode is the WAN watch's verdict (Nat.code, docs/interface.md#nat); "" when
// unknown (no IPv4 on the WAN).
type NATCode string

// NAT codes.
const (
	NATOK          NATCode = "nat-ok"
	NATDouble      NATCode = "double-nat"
	NATCGNAT       NATCode = "cgnat"
	NATIPv4Sharing NATCode = "ipv4-sharing"
)
