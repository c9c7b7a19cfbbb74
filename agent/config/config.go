// Package config reads and writes vpnpass's UCI configuration
// (/etc/config/vpnpass, or --config PATH off OpenWrt): the agent 'main'
// options and one `passthrough '<protocol>'` section per protocol.
//
// Loading never fails on a bad value: each invalid value is reported as a
// Problem and the option keeps the last good value (or the safe default), so
// a typo cannot turn the daemon off or flip a firewall verdict.
package config

import (
	"net/netip"
	"strconv"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/openwrt/uci"
)

// DefaultPath is the config file on OpenWrt.
const DefaultPath = "/etc/config/vpnpass"

// Backend selects the firewall implementation; auto detects it.
type Backend string

// Backends accepted by `option backend`.
const (
	BackendAuto     Backend = "auto"
	BackendFW4      Backend = "fw4"
	BackendNftables Backend = "nftables"
	BackendFW3      Backend = "fw3"
	BackendIptables Backend = "iptables"
)

// Backends lists the valid backends in documentation order.
var Backends = []Backend{BackendAuto, BackendFW4, BackendNftables, BackendFW3, BackendIptables}

// Config is the agent's configuration. JSON names are the UCI option names.
type Config struct {
	Enabled        bool     `json:"enabled"`
	Backend        Backend  `json:"backend"`
	LANDevices     []string `json:"lan_device"` // empty: every firewall zone forwarding to wan, else network.lan / netlink
	WANDevice      string   `json:"wan_device"` // "": the wan zone's devices and the default route's
	HistoryPath    string   `json:"history_path"`
	HistoryMaxKB   int      `json:"history_max_kb"`
	HistoryMaxDays int      `json:"history_max_days"`
	// The live history sits on tmpfs (lost at reboot); a copy is kept on
	// flash at a clean stop and at most every HistoryPersistHours (0 = never).
	HistoryPersistHours int            `json:"history_persist_hours"`
	HistoryPersistPath  string         `json:"history_persist_path"`
	STUNServer          string         `json:"stun_server"` // host:port, "" = no STUN probe
	UPnPProbe           bool           `json:"upnp_probe"`
	Observe             bool           `json:"observe"`
	Accounting          bool           `json:"accounting"`
	PublicRanges        []netip.Prefix `json:"public_range"`
	// Fleet view (docs/metrics.md): the node-exporter textfile ("" = none)
	// and how often it is rewritten; ShareHosts lets LAN addresses, host
	// names and MACs into ubus events and log lines (metrics never carry them).
	MetricsTextfile string            `json:"metrics_textfile"`
	MetricsInterval int               `json:"metrics_interval"` // seconds
	ShareHosts      bool              `json:"share_hosts"`
	Modes           netfilter.Desired `json:"modes"`
	// Servers are the VPN servers on the LAN (`config server`, server.go).
	Servers []Server `json:"server,omitempty"`
}

// Defaults returns the documented defaults (docs/interface.md#configuration): every
// protocol `default`, the observer and conntrack accounting on, history on
// tmpfs bounded to 512 KiB and 30 days, no active probes.
func Defaults() Config {
	return Config{
		Enabled:        true,
		Backend:        BackendAuto,
		HistoryPath:    "/var/lib/vpnpass/history.db",
		HistoryMaxKB:   512,
		HistoryMaxDays: 30,
		// Every 6 h: at most 4 writes of history_max_kb a day to flash.
		HistoryPersistHours: 6,
		HistoryPersistPath:  "/etc/vpnpass/history.db",
		Observe:             true,
		Accounting:          true,
		MetricsInterval:     DefaultMetricsInterval,
		Modes: netfilter.Desired{
			vpn.PPTP:  netfilter.ModeDefault,
			vpn.L2TP:  netfilter.ModeDefault,
			vpn.IPsec: netfilter.ModeDefault,
		},
	}
}

// Desired returns the per-protocol modes for the netfilter backends.
func (c *Config) Desired() netfilter.Desired {
	d := netfilter.Desired{}
	for _, p := range vpn.Toggled {
		d[p] = c.Modes.Mode(p)
	}
	return d
}

// clone copies c so that edits of slices and maps do not alias.
func (o *Config) clone() Config {
	c := *o // by pointer: a value receiver copies the whole Config at each call
	c.LANDevices = append([]string(nil), c.LANDevices...)
	c.PublicRanges = append([]netip.Prefix(nil), c.PublicRanges...)
	m := netfilter.Desired{}
	for k, v := range c.Modes {
		m[k] = v
	}
	c.Modes = m
	c.Servers = append([]Server(nil), c.Servers...)
	return c
}

// Problem is one invalid or unknown entry of the config file.
type Problem struct {
	_       [0]func() // not comparable: no equality function in the binary
	File    string    `json:"file"`
	Line    int       `json:"line"`
	Section string    `json:"section"`          // section name, or @type[index] when anonymous
	Option  string    `json:"option,omitempty"` // "" for a problem with the section itself
	Value   string    `json:"value"`
	Valid   string    `json:"valid"`          // the valid values, for the message
	Kept    *string   `json:"kept,omitempty"` // the value used instead; nil when the entry is ignored
	Message string    `json:"message"`
}

func (p Problem) Error() string { return p.String() }

// String renders the problem as one line a person can act on.
func (p Problem) String() string {
	where := "vpnpass." + p.Section
	if p.Option != "" {
		where += "." + p.Option
	}
	s := p.File + ":" + strconv.Itoa(p.Line) + ": " + where + ": " + p.Message
	if p.Valid != "" {
		s += "; valid: " + p.Valid
	}
	if p.Kept != nil {
		s += " (using " + uci.Quote(*p.Kept) + ")"
	}
	return s
}
