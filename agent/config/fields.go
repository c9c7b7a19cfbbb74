package config

import (
	"errors"
	"net/netip"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/vpnpass/vpnpass/internal/sock"
)

// field describes one option of the agent section: how to validate one
// value (kind, bounds and check) and what to tell the user is valid. Where
// the value lives is (*Config).option; storing, copying and showing it go
// by the pointer's type. The table is a sorted array of constants (no
// closures, no map): it costs no init code at each start of the binary
// (every LuCI poll execs it through rpcd).
type field struct {
	name   string
	valid  string
	list   bool
	lo, hi int32                // bounds of an integer option
	check  func(v string) error // nil: the value's type checks it
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

const validBool = "1 or 0 (also yes/no, on/off, true/false, enabled/disabled)"

// agentFields lists the agent section's options sorted by name (the order
// of the "valid" list of an unknown option); the integer bounds in each
// valid text are the constants above (TestFieldTexts).
var agentFields = [...]field{
	{name: "accounting", valid: validBool},
	{name: "backend", valid: "auto, fw4, nftables, fw3, iptables"},
	{name: "enabled", valid: validBool},
	{name: "history_max_days", valid: "an integer from 1 to 3650", lo: 1, hi: MaxHistoryDays},
	{name: "history_max_kb", valid: "an integer from 64 to 65536", lo: MinHistoryKB, hi: MaxHistoryKB},
	{name: "history_path", valid: "an absolute file path", check: checkAbsPath},
	{name: "history_persist_hours", valid: "an integer from 0 (never keep a copy on flash) to 168", lo: 0, hi: MaxPersistHours},
	{name: "history_persist_path", valid: "an absolute file path on flash, e.g. under /etc (tmpfs paths such as /tmp or /var do not survive a reboot)", check: checkAbsPath},
	{name: "lan_device", valid: "interface names such as br-lan (1-15 characters, no '/' or blanks)", list: true, check: checkDevice},
	{name: "metrics_interval", valid: "seconds, an integer from 5 to 3600", lo: MinMetricsInterval, hi: MaxMetricsInterval},
	{name: "metrics_textfile", valid: "an absolute file path ending in .prom (node-exporter's textfile collector reads /var/prometheus/*.prom), or '' for none", check: checkPromPath},
	{name: "observe", valid: validBool},
	{name: "public_range", valid: "CIDR prefixes such as 203.0.113.0/24 or 2001:db8::/32", list: true},
	{name: "share_hosts", valid: validBool},
	{name: "stun_server", valid: "host:port, or '' for no STUN probe", check: checkHostPort},
	{name: "upnp_probe", valid: validBool},
	{name: "wan_device", valid: "an interface name such as eth1, or '' to follow the default route", check: checkDevice},
}

// option is where the value of agentFields[i] lives in c (TestFieldOption
// checks each against Config's json tags, which are the option names).
func (c *Config) option(i int) any {
	switch i {
	case 0: // accounting
		return &c.Accounting
	case 1: // backend
		return &c.Backend
	case 2: // enabled
		return &c.Enabled
	case 3: // history_max_days
		return &c.HistoryMaxDays
	case 4: // history_max_kb
		return &c.HistoryMaxKB
	case 5: // history_path
		return &c.HistoryPath
	case 6: // history_persist_hours
		return &c.HistoryPersistHours
	case 7: // history_persist_path
		return &c.HistoryPersistPath
	case 8: // lan_device
		return &c.LANDevices
	case 9: // metrics_interval
		return &c.MetricsInterval
	case 10: // metrics_textfile
		return &c.MetricsTextfile
	case 11: // observe
		return &c.Observe
	case 12: // public_range
		return &c.PublicRanges
	case 13: // share_hosts
		return &c.ShareHosts
	case 14: // stun_server
		return &c.STUNServer
	case 15: // upnp_probe
		return &c.UPnPProbe
	}
	return &c.WANDevice // wan_device
}

// lookupField finds an agent option by name (agentFields is sorted).
func lookupField(name string) (int, bool) {
	for i := range agentFields {
		if agentFields[i].name == name {
			return i, true
		}
	}
	return 0, false
}

// agentOptionNames lists the agent options in name order.
func agentOptionNames() []string {
	names := make([]string, len(agentFields))
	for i := range agentFields {
		names[i] = agentFields[i].name
	}
	return names
}

// parseBool reads a UCI boolean as OpenWrt's config_get_bool does.
func parseBool(v string) (value, ok bool) {
	switch strings.ToLower(v) {
	case "1", "yes", "on", "true", "enabled":
		return true, true
	case "0", "no", "off", "false", "disabled":
		return false, true
	}
	return false, false
}

// checkValue validates one value of option i.
func checkValue(i int, v string) error {
	f := &agentFields[i]
	if f.check != nil {
		return f.check(v)
	}
	switch (&Config{}).option(i).(type) {
	case *bool:
		if _, ok := parseBool(v); !ok {
			return errors.New("not a boolean: " + strconv.Quote(v))
		}
	case *int:
		n, err := strconv.Atoi(v)
		if err != nil || n < int(f.lo) || n > int(f.hi) {
			return errors.New("out of range or not an integer: " + strconv.Quote(v))
		}
	case *Backend:
		for _, b := range Backends {
			if string(b) == v {
				return nil
			}
		}
		return errors.New("unknown backend " + strconv.Quote(v))
	case *[]netip.Prefix:
		if _, err := netip.ParsePrefix(v); err != nil {
			return errors.New("not a CIDR prefix: " + strconv.Quote(v))
		}
	}
	return nil
}

// setValue stores the checked values vs of option i in c.
func (c *Config) setValue(i int, vs []string) {
	switch p := c.option(i).(type) {
	case *bool:
		*p, _ = parseBool(vs[0])
	case *int:
		*p, _ = strconv.Atoi(vs[0])
	case *string:
		*p = vs[0]
	case *Backend:
		*p = Backend(vs[0])
	case *[]string:
		*p = append([]string(nil), vs...)
	case *[]netip.Prefix:
		*p = nil
		for _, v := range vs {
			*p = append(*p, netip.MustParsePrefix(v).Masked())
		}
	}
}

// keepValue copies option i's value in force (from last) into c. By
// reflect (linked for jsonx anyway): a type switch with an assertion per
// option kind was 1.1 KB of mips code for one assignment.
func (c *Config) keepValue(i int, last *Config) {
	reflect.ValueOf(c.option(i)).Elem().Set(reflect.ValueOf(last.option(i)).Elem())
}

// showValue renders option i's value in c as the config file would hold it.
func (c *Config) showValue(i int) string {
	switch p := c.option(i).(type) {
	case *bool:
		if *p {
			return "1"
		}
		return "0"
	case *int:
		return strconv.Itoa(*p)
	case *string:
		return *p
	case *Backend:
		return string(*p)
	case *[]string:
		return strings.Join(*p, " ")
	case *[]netip.Prefix:
		s := make([]string, len(*p))
		for j, x := range *p {
			s[j] = x.String()
		}
		return strings.Join(s, " ")
	}
	return ""
}

// checkDevice accepts what the kernel accepts as an interface name.
func checkDevice(v string) error {
	if len(v) == 0 || len(v) > 15 || v == "." || v == ".." || strings.ContainsAny(v, "/:\x00") ||
		strings.IndexFunc(v, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return errors.New("not an interface name: " + strconv.Quote(v))
	}
	return nil
}

func checkAbsPath(v string) error {
	if !filepath.IsAbs(v) || strings.HasSuffix(v, "/") {
		return errors.New("not an absolute file path: " + strconv.Quote(v))
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
		return errors.New("does not end in .prom: " + strconv.Quote(v))
	}
	return nil
}

func checkHostPort(v string) error {
	host, port, ok := sock.SplitHostPort(v)
	if !ok {
		return errors.New("not host:port: " + strconv.Quote(v))
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return errors.New("bad port in " + strconv.Quote(v))
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
