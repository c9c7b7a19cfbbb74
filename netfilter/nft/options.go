package nft

import (
	"fmt"
	"path/filepath"
	"sort"

	"github.com/vpnpass/vpnpass/netfilter"
)

// ifnameMax is IFNAMSIZ-1: the kernel's limit on an interface name.
const ifnameMax = 15

// validIfname accepts the names Linux and OpenWrt use (br-lan, eth0.2,
// pppoe-wan, wlan0-1) and nothing that could change the meaning of nft text:
// no quotes, spaces, wildcards or path separators.
func validIfname(s string) error {
	if s == "" || len(s) > ifnameMax {
		return fmt.Errorf("interface name %q: must be 1 to %d characters", s, ifnameMax)
	}
	if s == "." || s == ".." {
		return fmt.Errorf("interface name %q is not allowed", s)
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' ||
			i > 0 && (r == '-' || r == '.')
		if !ok {
			return fmt.Errorf("interface name %q: only letters, digits, '_', and '-' or '.' after the first character", s)
		}
	}
	return nil
}

// config is the validated form of Options.
type config struct {
	kind         netfilter.Kind
	lan          []string      // sorted, unique
	wan          netfilter.WAN // per family sorted, unique; a family without devices gets no rules
	root         string
	autoIncludes bool
}

// validate checks the portable part of Options (shared by every build).
func validate(kind netfilter.Kind, lanDevices []string, wan netfilter.WAN, root string, autoIncludes bool) (config, error) {
	c := config{kind: kind, root: root, autoIncludes: autoIncludes,
		wan: netfilter.WAN{IPv4: netfilter.SortedUnique(wan.IPv4), IPv6: netfilter.SortedUnique(wan.IPv6)}}
	if c.kind != netfilter.KindFW4 && c.kind != netfilter.KindNftables {
		return c, fmt.Errorf("nft backend: kind %q: must be %s or %s", kind, netfilter.KindFW4, netfilter.KindNftables)
	}
	if len(lanDevices) == 0 {
		return c, fmt.Errorf("nft backend: no LAN device")
	}
	seen := map[string]bool{}
	for _, d := range lanDevices {
		if err := validIfname(d); err != nil {
			return c, fmt.Errorf("nft backend: LAN device: %w", err)
		}
		if !seen[d] {
			seen[d] = true
			c.lan = append(c.lan, d)
		}
	}
	sort.StringSlice(c.lan).Sort()
	for _, w := range c.wan.All() {
		if err := validIfname(w); err != nil {
			return c, fmt.Errorf("nft backend: WAN device: %w", err)
		}
		if seen[w] {
			return c, fmt.Errorf("nft backend: %q is both a LAN and a WAN device", w)
		}
	}
	if c.root == "" {
		c.root = "/"
	}
	if !filepath.IsAbs(c.root) {
		return c, fmt.Errorf("nft backend: root %q must be an absolute path", root)
	}
	return c, nil
}

// Paths of the fw4 include, relative to Root. fw4 includes every
// /usr/share/nftables.d/chain-pre/forward/*.nft at the head of its forward
// chain and skips a dangling symlink, so the package ships the symlink and
// the agent writes the file on tmpfs only after validating it.
const (
	// NftablesDir is created by the firewall4 package; its absence means
	// fw4 is not installed and no include is written.
	NftablesDir    = "usr/share/nftables.d"
	IncludeFile    = "var/run/vpnpass/fw4-forward.nft"
	IncludeSymlink = "usr/share/nftables.d/chain-pre/forward/10-vpnpass.nft"
)

func (c config) includeFile() string    { return filepath.Join(c.root, IncludeFile) }
func (c config) includeSymlink() string { return filepath.Join(c.root, IncludeSymlink) }
