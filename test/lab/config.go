package lab

import (
	"fmt"
	"strings"
)

// Topology says what sits between the router under test and the internet.
type Topology int

const (
	// Single: the router's WAN is on the internet (198.51.100.2).
	Single Topology = iota
	// Double: an upstream home router NATs the router's private WAN
	// (192.168.0.2) again.
	Double
	// CGNAT: the carrier NATs the router's shared-space WAN (100.64.0.2).
	CGNAT
)

var topologyNames = []string{"single", "double", "cgnat"}

func (t Topology) String() string {
	if int(t) >= 0 && int(t) < len(topologyNames) {
		return topologyNames[t]
	}
	return fmt.Sprintf("topology(%d)", int(t))
}

// ParseTopology accepts "single", "double" or "cgnat".
func ParseTopology(s string) (Topology, error) {
	for i, n := range topologyNames {
		if strings.EqualFold(s, n) {
			return Topology(i), nil
		}
	}
	return 0, fmt.Errorf("unknown topology %q (want %s)", s, strings.Join(topologyNames, ", "))
}

// Firewall is one ruleset loaded into the router. Several can be combined,
// as several firewalls can hook forward on a real router.
type Firewall string

const (
	// FirewallNone loads nothing; the lab's own nat table masquerades.
	FirewallNone Firewall = "none"
	// FW4 is OpenWrt firewall4's default ruleset (test/testdata/fw4-default.nft).
	FW4 Firewall = "fw4"
	// FW4Locked is FW4 without lan→wan forwarding: LAN→WAN ends in fw4's
	// handle_reject (TCP reset / ICMP port unreachable).
	FW4Locked Firewall = "fw4-locked"
	// NftablesDrop is a distro-like `table inet filter` whose forward chain
	// drops all but established/related and ICMP.
	NftablesDrop Firewall = "nftables-drop"
	// IptablesLegacyDrop and IptablesNftDrop set FORWARD policy DROP and
	// accept only ESTABLISHED,RELATED and ICMP, through iptables-legacy or
	// iptables-nft (and the matching ip6tables).
	IptablesLegacyDrop Firewall = "iptables-legacy-drop"
	IptablesNftDrop    Firewall = "iptables-nft-drop"
	// FW3 is OpenWrt 21.02 fw3's default ruleset in iptables-legacy
	// (test/testdata/fw3-default.rules); FW3Locked removes lan→wan forwarding.
	FW3       Firewall = "fw3"
	FW3Locked Firewall = "fw3-locked"
)

// AllFirewalls lists every option, for table-driven tests and flag help.
var AllFirewalls = []Firewall{FirewallNone, FW4, FW4Locked, NftablesDrop,
	IptablesLegacyDrop, IptablesNftDrop, FW3, FW3Locked}

// Describe gives a short human description, for the demo's headers.
func (f Firewall) Describe() string {
	switch f {
	case FirewallNone:
		return "no firewall"
	case FW4:
		return "fw4, default"
	case FW4Locked:
		return "fw4, locked down"
	case NftablesDrop:
		return "nftables, forward drop"
	case IptablesLegacyDrop:
		return "iptables-legacy, FORWARD drop"
	case IptablesNftDrop:
		return "iptables-nft, FORWARD drop"
	case FW3:
		return "fw3, default"
	case FW3Locked:
		return "fw3, locked down"
	}
	return string(f)
}

// ParseFirewalls reads a comma-separated list such as "fw4,iptables-nft-drop".
// The empty string and "none" mean no firewall.
func ParseFirewalls(s string) ([]Firewall, error) {
	var out []Firewall
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" || part == string(FirewallNone) {
			continue
		}
		if !knownFirewall(Firewall(part)) {
			return nil, fmt.Errorf("unknown firewall %q (want a comma-separated list of %v)", part, AllFirewalls)
		}
		out = append(out, Firewall(part))
	}
	return out, nil
}

func knownFirewall(f Firewall) bool {
	for _, k := range AllFirewalls {
		if k == f {
			return true
		}
	}
	return false
}

// Config describes the lab to build. The zero value is a Single NAT lab
// without firewall and without IPv6.
type Config struct {
	Topology  Topology
	Firewalls []Firewall
	// WANDevice names the router's WAN device; "" means DefaultWANDevice.
	WANDevice string
	// IPv6 adds the documentation IPv6 addresses and routes (no NAT).
	IPv6 bool
	// ISPPPTPHelper gives the isp (Double, CGNAT) PPTP passthrough: the
	// pptp conntrack helper on TCP 1723 at its NAT. Off, PPTP's GRE cannot
	// cross the isp, as behind an upstream box without passthrough.
	ISPPPTPHelper bool
	// FW4IncludeDir, when set, renders `include "<dir>/*.nft"` as the first
	// statement of fw4's chain forward, as fw4 renders chain-pre includes.
	FW4IncludeDir string
	// Guest puts lan2 on a second bridge, br-guest (192.168.3.0/24), as an
	// OpenWrt guest network: a LAN-side zone other than `lan`. IPv4 only.
	Guest bool
}

func (c Config) wanDevice() string {
	if c.WANDevice == "" {
		return DefaultWANDevice
	}
	return c.WANDevice
}

func (c Config) has(f Firewall) bool {
	for _, x := range c.Firewalls {
		if x == f {
			return true
		}
	}
	return false
}

func (c Config) validate() error {
	if c.Topology < Single || c.Topology > CGNAT {
		return fmt.Errorf("unknown topology %d", int(c.Topology))
	}
	if n := len(c.wanDevice()); n > 15 || strings.ContainsAny(c.wanDevice(), "/ \t\"") {
		return fmt.Errorf("bad WAN device name %q", c.wanDevice())
	}
	for _, f := range c.Firewalls {
		if !knownFirewall(f) {
			return fmt.Errorf("unknown firewall %q", f)
		}
	}
	if c.Guest && c.IPv6 {
		return fmt.Errorf("the guest network is IPv4 only")
	}
	if c.has(FW4) && c.has(FW4Locked) || c.has(FW3) && c.has(FW3Locked) {
		return fmt.Errorf("firewalls %v: a default and a locked variant of the same firewall exclude each other", c.Firewalls)
	}
	return nil
}
