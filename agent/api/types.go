package api

import (
	"time"

	"github.com/vpnpass/vpnpass/agent/history"
	"github.com/vpnpass/vpnpass/agent/probe"
	"github.com/vpnpass/vpnpass/agent/wan"
	"github.com/vpnpass/vpnpass/diagnose"
	"github.com/vpnpass/vpnpass/helpers"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
)

// The params and results of the methods in Methods, as docs/interface.md's
// method table has them. Params fields are strings, booleans and integers
// only (rpcd types them by example); a zero value means "not given".

// SetParams are set's params: mode is allow, block or default.
type SetParams struct {
	_        [0]func() // not comparable: no equality function in the binary
	Protocol string    `json:"protocol"`
	Mode     string    `json:"mode"`
	DryRun   bool      `json:"dry_run"`
}

// SetResult is set's result: the rules changed (or, dry, that would
// change), and the status after the change (not with dry_run).
type SetResult struct {
	// Changed: the set changed (dry: would change) the configured mode or
	// the rules. The one definition, for the daemon and --direct alike.
	Changed bool               `json:"changed"`
	Plan    []netfilter.Change `json:"plan"`
	Status  *Status            `json:"status,omitempty"`
}

// ExplainParams describe the packet explain follows (dport 0: none).
type ExplainParams struct {
	_     [0]func() // not comparable: no equality function in the binary
	Proto string    `json:"proto"`
	Dst   string    `json:"dst"`
	Dport int       `json:"dport"`
	Src   string    `json:"src"`
}

// DoctorParams: host limits the findings to one LAN host ("" = all).
type DoctorParams struct {
	Host string `json:"host"`
}

// ProbeParams name the server to probe and the protocol ("" = all).
type ProbeParams struct {
	_        [0]func() // not comparable: no equality function in the binary
	Host     string    `json:"host"`
	Protocol string    `json:"protocol"`
}

// NatParams: probe asks STUN / NAT-PMP / IGD as well.
type NatParams struct {
	Probe bool `json:"probe"`
}

// HistoryParams filter the events (docs/interface.md#history: since is RFC 3339 or a
// duration back from now, kind a kind or a prefix ending in ".").
type HistoryParams struct {
	_     [0]func() // not comparable: no equality function in the binary
	Since string    `json:"since"`
	Kind  string    `json:"kind"`
	Limit int       `json:"limit"`
	// Until, Protocol and Before are our additions (docs/interface.md#history):
	// the end of a time range (RFC 3339), one protocol's events, and paging:
	// only events older than the seq Before (the last seq of the page shown).
	Until    string `json:"until"`
	Protocol string `json:"protocol"`
	Before   int    `json:"before"`
}

// Status is the API's Status object (docs/interface.md#status).
type Status struct {
	Backend     BackendStatus                          `json:"backend"`
	Helpers     map[string]helpers.Info                `json:"helpers"`
	Protocols   map[vpn.Protocol]netfilter.ProtoStatus `json:"protocols"`
	Masquerade  bool                                   `json:"masquerade"`
	FlowOffload string                                 `json:"flow_offload"`
	WAN         wan.Nat                                `json:"wan"`
	// Inbound says, per protocol, whether clients on the WAN reach each VPN
	// server on the LAN (configured or seen): docs/interface.md#status.
	Inbound map[vpn.Protocol][]netfilter.InboundStatus `json:"inbound"`
}

// BackendStatus names the firewall in charge and the others hooking forward.
type BackendStatus struct {
	Kind netfilter.Kind   `json:"kind"`
	Also []netfilter.Kind `json:"also"`
}

// DoctorResult is doctor's result.
type DoctorResult struct {
	Findings []diagnose.Finding `json:"findings"`
	Sessions []SessionView      `json:"sessions"`
	// Source says where the findings come from: "live" (the daemon's
	// watch) or "snapshot" (a one-off conntrack dump without a daemon).
	Source string `json:"source"`
}

// SessionView is a session as doctor shows it.
type SessionView struct {
	_         [0]func()    // not comparable: no equality function in the binary
	Protocol  vpn.Protocol `json:"protocol"`
	Host      string       `json:"host"`
	Peer      string       `json:"peer"`
	Router    bool         `json:"router"`
	Phase     string       `json:"phase"`
	FirstSeen time.Time    `json:"first_seen"`
	LastSeen  time.Time    `json:"last_seen"`
	Flows     int          `json:"flows"`
}

// ProbeResult is probe's result.
type ProbeResult struct {
	Results []probe.Result `json:"results"`
}

// HistoryResult is history's result: events, newest first.
type HistoryResult struct {
	Events []history.Event `json:"events"`
}

// ReloadResult is reload's result.
type ReloadResult struct {
	Reloaded bool `json:"reloaded"`
}

// MetricsResult is metrics' result: the Prometheus text exposition
// (docs/metrics.md), the same text as the node-exporter textfile.
type MetricsResult struct {
	Text string `json:"text"`
}
