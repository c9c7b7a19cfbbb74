package config

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/vpnpass/vpnpass/internal/sock"
)

// field describes one option of the agent section: how to validate one value,
// store the values, copy the value in force from the last config, and show it.
type field struct {
	valid string
	list  bool
	check func(v string) error
	set   func(c *Config, vs []string)
	keep  func(c *Config, last Config)
	show  func(c Config) string
}

// Limits of the history bounds.
const (
	MinHistoryKB   = 64
	MaxHistoryKB   = 65536
	MaxHistoryDays = 3650
	// MaxPersistHours: a week; rarer saves lose more at a power cut.
	MaxPersistHours = 168
	// The metrics textfile's interval bounds, in seconds (Prometheus
	// scrapes every 15-60 s; a rewrite is a tmpfs write, not flash).
	MinMetricsInterval     = 5
	MaxMetricsInterval     = 3600
	DefaultMetricsInterval = 30
)

// agentFields is built on first use, not at package init: every start of
// the binary (each LuCI poll execs it through rpcd) would pay for the map
// and its closures, and only config loading and the docs read it.
var agentFields = sync.OnceValue(func() map[string]field {
	return map[string]field{
		"enabled":     boolField(func(c *Config) *bool { return &c.Enabled }),
		"upnp_probe":  boolField(func(c *Config) *bool { return &c.UPnPProbe }),
		"observe":     boolField(func(c *Config) *bool { return &c.Observe }),
		"accounting":  boolField(func(c *Config) *bool { return &c.Accounting }),
		"share_hosts": boolField(func(c *Config) *bool { return &c.ShareHosts }),
		"metrics_textfile": stringField("an absolute file path ending in .prom (node-exporter's textfile collector reads /var/prometheus/*.prom), or '' for none",
			checkPromPath, func(c *Config) *string { return &c.MetricsTextfile }),
		"metrics_interval": intField(fmt.Sprintf("seconds, an integer from %d to %d", MinMetricsInterval, MaxMetricsInterval),
			MinMetricsInterval, MaxMetricsInterval, func(c *Config) *int { return &c.MetricsInterval }),
		"backend": {
			valid: "auto, fw4, nftables, fw3, iptables",
			check: func(v string) error {
				for _, b := range Backends {
					if string(b) == v {
						return nil
					}
				}
				return fmt.Errorf("unknown backend %q", v)
			},
			set:  func(c *Config, vs []string) { c.Backend = Backend(vs[0]) },
			keep: func(c *Config, last Config) { c.Backend = last.Backend },
			show: func(c Config) string { return string(c.Backend) },
		},
		"lan_device": {
			valid: "interface names such as br-lan (1-15 characters, no '/' or blanks)",
			list:  true,
			check: checkDevice,
			set:   func(c *Config, vs []string) { c.LANDevices = append([]string(nil), vs...) },
			keep:  func(c *Config, last Config) { c.LANDevices = last.LANDevices },
			show:  func(c Config) string { return strings.Join(c.LANDevices, " ") },
		},
		"wan_device":   stringField("an interface name such as eth1, or '' to follow the default route", checkDevice, func(c *Config) *string { return &c.WANDevice }),
		"history_path": stringField("an absolute file path", checkAbsPath, func(c *Config) *string { return &c.HistoryPath }),
		"stun_server":  stringField("host:port, or '' for no STUN probe", checkHostPort, func(c *Config) *string { return &c.STUNServer }),
		"history_max_kb": intField(fmt.Sprintf("an integer from %d to %d", MinHistoryKB, MaxHistoryKB),
			MinHistoryKB, MaxHistoryKB, func(c *Config) *int { return &c.HistoryMaxKB }),
		"history_max_days": intField(fmt.Sprintf("an integer from 1 to %d", MaxHistoryDays),
			1, MaxHistoryDays, func(c *Config) *int { return &c.HistoryMaxDays }),
		"history_persist_hours": intField(fmt.Sprintf("an integer from 0 (never keep a copy on flash) to %d", MaxPersistHours),
			0, MaxPersistHours, func(c *Config) *int { return &c.HistoryPersistHours }),
		"history_persist_path": stringField("an absolute file path on flash, e.g. under /etc (tmpfs paths such as /tmp or /var do not survive a reboot)", checkAbsPath,
			func(c *Config) *string { return &c.HistoryPersistPath }),
		"public_range": {
			valid: "CIDR prefixes such as 203.0.113.0/24 or 2001:db8::/32",
			list:  true,
			check: func(v string) error {
				if _, err := netip.ParsePrefix(v); err != nil {
					return fmt.Errorf("not a CIDR prefix: %q", v)
				}
				return nil
			},
			set: func(c *Config, vs []string) {
				c.PublicRanges = nil
				for _, v := range vs {
					c.PublicRanges = append(c.PublicRanges, netip.MustParsePrefix(v).Masked())
				}
			},
			keep: func(c *Config, last Config) { c.PublicRanges = last.PublicRanges },
			show: func(c Config) string {
				var s []string
				for _, p := range c.PublicRanges {
					s = append(s, p.String())
				}
				return strings.Join(s, " ")
			},
		},
	}
})

func agentOptionNames() []string {
	var names []string
	for n := range agentFields() {
		names = append(names, n)
	}
	sort.StringSlice(names).Sort()
	return names
}

// UCI booleans, as OpenWrt's config_get_bool reads them.
var uciBools = map[string]bool{
	"1": true, "yes": true, "on": true, "true": true, "enabled": true,
	"0": false, "no": false, "off": false, "false": false, "disabled": false,
}

// The field constructors are not inlined: inlined into the table's
// initialisation, every call would compile its own copies of the closures
// (~8 KiB on mips in all).
//
//go:noinline
func boolField(ptr func(*Config) *bool) field {
	return field{
		valid: "1 or 0 (also yes/no, on/off, true/false, enabled/disabled)",
		check: func(v string) error {
			if _, ok := uciBools[strings.ToLower(v)]; !ok {
				return fmt.Errorf("not a boolean: %q", v)
			}
			return nil
		},
		set:  func(c *Config, vs []string) { *ptr(c) = uciBools[strings.ToLower(vs[0])] },
		keep: func(c *Config, last Config) { *ptr(c) = *ptr(&last) },
		show: func(c Config) string { return map[bool]string{true: "1", false: "0"}[*ptr(&c)] },
	}
}

//go:noinline
func intField(valid string, lo, hi int, ptr func(*Config) *int) field {
	return field{
		valid: valid,
		check: func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < lo || n > hi {
				return fmt.Errorf("out of range or not an integer: %q", v)
			}
			return nil
		},
		set:  func(c *Config, vs []string) { *ptr(c), _ = strconv.Atoi(vs[0]) },
		keep: func(c *Config, last Config) { *ptr(c) = *ptr(&last) },
		show: func(c Config) string { return strconv.Itoa(*ptr(&c)) },
	}
}

//go:noinline
func stringField(valid string, check func(string) error, ptr func(*Config) *string) field {
	return field{
		valid: valid,
		check: check,
		set:   func(c *Config, vs []string) { *ptr(c) = vs[0] },
		keep:  func(c *Config, last Config) { *ptr(c) = *ptr(&last) },
		show:  func(c Config) string { return *ptr(&c) },
	}
}

// checkDevice accepts what the kernel accepts as an interface name.
func checkDevice(v string) error {
	if len(v) == 0 || len(v) > 15 || v == "." || v == ".." || strings.ContainsAny(v, "/:\x00") ||
		strings.IndexFunc(v, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return fmt.Errorf("not an interface name: %q", v)
	}
	return nil
}

func checkAbsPath(v string) error {
	if !filepath.IsAbs(v) || strings.HasSuffix(v, "/") {
		return fmt.Errorf("not an absolute file path: %q", v)
	}
	return nil
}

// checkPromPath: the textfile collector reads only *.prom files.
func checkPromPath(v string) error {
	if v == "" {
		return nil
	}
	if err := checkAbsPath(v); err != nil {
		return err
	}
	if !strings.HasSuffix(v, ".prom") {
		return fmt.Errorf("does not end in .prom: %q", v)
	}
	return nil
}

func checkHostPort(v string) error {
	host, port, ok := sock.SplitHostPort(v)
	if !ok {
		return fmt.Errorf("not host:port: %q", v)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("bad port in %q", v)
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if !validHostname(host) {
		return errors.New("bad host name in " + strconv.Quote(v))
	}
	return nil
}

func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
