package vpn

// Severity of a finding or a history event, as INTERFACE.md spells it.
type Severity string

// Severities.
const (
	SeverityOK      Severity = "ok"
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// NATCode is the WAN watch's verdict (INTERFACE.md Nat.code); "" when
// unknown (no IPv4 on the WAN).
type NATCode string

// NAT codes.
const (
	NATOK          NATCode = "nat-ok"
	NATDouble      NATCode = "double-nat"
	NATCGNAT       NATCode = "cgnat"
	NATIPv4Sharing NATCode = "ipv4-sharing"
)
