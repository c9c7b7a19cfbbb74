package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Who masquerades on the router's WAN (Lab.MasqueradeBy).
const (
	MasqFW4            = "fw4"             // fw4's srcnat_wan
	MasqFW3            = "fw3"             // fw3's zone_wan_postrouting
	MasqIptablesLegacy = "iptables-legacy" // -t nat POSTROUTING -o WAN -j MASQUERADE
	MasqIptablesNft    = "iptables-nft"
	MasqLabNAT         = "lab_nat" // table ip lab_nat, over netlink
)

// MasqueradeBy says which firewall does the router's WAN masquerade: the
// first of fw4, fw3, iptables-legacy, iptables-nft among the options, else
// the lab's own nat table.
func (l *Lab) MasqueradeBy() string {
	c := l.Config
	switch {
	case c.has(FW4) || c.has(FW4Locked):
		return MasqFW4
	case c.has(FW3) || c.has(FW3Locked):
		return MasqFW3
	case c.has(IptablesLegacyDrop):
		return MasqIptablesLegacy
	case c.has(IptablesNftDrop):
		return MasqIptablesNft
	}
	return MasqLabNAT
}

func (l *Lab) loadFirewalls() error {
	if l.ISP != nil {
		if err := addLabNAT(l.ISP, ISPOuterDevice); err != nil {
			return err
		}
		if l.Config.ISPPPTPHelper {
			if err := addPPTPHelper(l.ISP); err != nil {
				return err
			}
		}
	}
	for _, f := range l.Config.Firewalls {
		if err := l.loadFirewall(f); err != nil {
			return fmt.Errorf("load firewall %s: %w", f, err)
		}
	}
	switch l.MasqueradeBy() {
	case MasqIptablesLegacy:
		return l.iptablesMasq("legacy")
	case MasqIptablesNft:
		return l.iptablesMasq("nft")
	case MasqLabNAT:
		return addLabNAT(l.Router, l.WANDevice)
	}
	return nil // fw4 and fw3 bring their own masquerade
}

func (l *Lab) loadFirewall(f Firewall) error {
	switch f {
	case FirewallNone:
		return nil
	case FW4, FW4Locked:
		return l.loadFW4(f == FW4Locked)
	case FW3, FW3Locked:
		return l.loadFW3(f == FW3Locked)
	case NftablesDrop:
		return addNftablesDrop(l.Router)
	case IptablesLegacyDrop:
		return l.iptablesDrop("legacy")
	case IptablesNftDrop:
		return l.iptablesDrop("nft")
	}
	return fmt.Errorf("unknown firewall %q", f)
}

// toolsFor lists the binaries a firewall option runs in the router.
func toolsFor(f Firewall) []string {
	switch f {
	case FW4, FW4Locked:
		return []string{"nft"}
	case FW3, FW3Locked:
		return []string{"iptables-legacy-restore", "ip6tables-legacy-restore"}
	case IptablesLegacyDrop:
		return []string{"iptables-legacy", "ip6tables-legacy"}
	case IptablesNftDrop:
		return []string{"iptables-nft", "ip6tables-nft"}
	}
	return nil // none and nftables-drop are built over netlink
}

// iptablesDrop is a distro-style closed FORWARD: policy DROP, replies and
// ICMP accepted, for IPv4 and IPv6.
func (l *Lab) iptablesDrop(variant string) error {
	cmds := [][]string{
		{"iptables-" + variant, "-P", "FORWARD", "DROP"},
		{"iptables-" + variant, "-A", "FORWARD", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
		{"iptables-" + variant, "-A", "FORWARD", "-p", "icmp", "-j", "ACCEPT"},
		{"ip6tables-" + variant, "-P", "FORWARD", "DROP"},
		{"ip6tables-" + variant, "-A", "FORWARD", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
		{"ip6tables-" + variant, "-A", "FORWARD", "-p", "ipv6-icmp", "-j", "ACCEPT"},
	}
	for _, c := range cmds {
		if _, err := l.Iptables(c[0], c[1:]...); err != nil {
			return err
		}
	}
	return nil
}

func (l *Lab) iptablesMasq(variant string) error {
	_, err := l.Iptables(variant, "-t", "nat", "-A", "POSTROUTING", "-o", l.WANDevice, "-j", "MASQUERADE")
	return err
}

// Iptables runs an iptables binary in the router. variant is "legacy" or
// "nft" (iptables-legacy, iptables-nft) or a full binary name such as
// "ip6tables-nft". Unless args has a wait flag, "-w 10" is added: the
// xtables lock is one file for all namespaces of the machine, and legacy
// iptables fails at once when a parallel test holds it.
func (l *Lab) Iptables(variant string, args ...string) ([]byte, error) {
	bin := variant
	if !strings.HasPrefix(variant, "ip") {
		bin = "iptables-" + variant
	}
	return l.Router.Run(bin, withWait(args)...)
}

func withWait(args []string) []string {
	for _, a := range args {
		if a == "-w" || a == "--wait" || strings.HasPrefix(a, "--wait=") {
			return args
		}
	}
	return append([]string{"-w", "10"}, args...)
}

// Nft runs the nft binary in the router.
func (l *Lab) Nft(args ...string) ([]byte, error) {
	return l.Router.Run("nft", args...)
}

func (l *Lab) loadFW3(locked bool) error {
	fixture, err := ReadTestdata("fw3-default.rules")
	if err != nil {
		return err
	}
	v4, v6, err := renderFW3(string(fixture), l.WANDevice, locked)
	if err != nil {
		return err
	}
	for _, r := range []struct{ bin, file, text string }{
		{"iptables-legacy-restore", "fw3.rules", v4},
		{"ip6tables-legacy-restore", "fw3.rules6", v6},
	} {
		p := filepath.Join(l.tmpDir, r.file)
		if err := os.WriteFile(p, []byte(r.text), 0o644); err != nil {
			return err
		}
		if _, err := l.Router.Run(r.bin, "-w", "10", p); err != nil {
			return err
		}
	}
	return nil
}
