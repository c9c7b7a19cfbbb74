package wan

import (
	"context"
	"fmt"
	json "github.com/vpnpass/vpnpass/internal/jsonx"
	"net/netip"
	"os/exec"
	"time"
)

// ubusStatus is the part of `ubus call network.interface.<name> status`
// that matters here (netifd's JSON; field names as netifd writes them).
type ubusStatus struct {
	Up        bool   `json:"up"`
	Proto     string `json:"proto"`
	L3Device  string `json:"l3_device"`
	Device    string `json:"device"`
	IPv4Addrs []struct {
		Address    string `json:"address"`
		Mask       int    `json:"mask"`
		PtpAddress string `json:"ptpaddress"`
	} `json:"ipv4-address"`
	IPv6Addrs []struct {
		Address string `json:"address"`
		Mask    int    `json:"mask"`
	} `json:"ipv6-address"`
	Routes []struct {
		Target  string `json:"target"`
		Mask    int    `json:"mask"`
		Nexthop string `json:"nexthop"`
	} `json:"route"`
}

// ParseUbusStatus reads the JSON of `ubus call network.interface.wan status`.
// A down interface yields ErrNoWAN. Malformed addresses are skipped, not
// fatal: one odd entry must not hide the rest.
func ParseUbusStatus(b []byte) (none Info, _ error) {
	var st ubusStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return none, fmt.Errorf("ubus interface status: %w", err)
	}
	if !st.Up {
		return none, fmt.Errorf("%w (interface is down)", ErrNoWAN)
	}
	info := Info{Device: st.L3Device, Proto: st.Proto}
	if info.Device == "" {
		info.Device = st.Device
	}
	for _, a := range st.IPv4Addrs {
		if p, err := prefixOf(a.Address, a.Mask); err == nil {
			info.Addresses = append(info.Addresses, p)
		}
	}
	for _, a := range st.IPv6Addrs {
		if p, err := prefixOf(a.Address, a.Mask); err == nil {
			info.Addresses = append(info.Addresses, p)
		}
	}
	for _, r := range st.Routes {
		if r.Target == "0.0.0.0" && r.Mask == 0 {
			if gw, err := netip.ParseAddr(r.Nexthop); err == nil && !gw.IsUnspecified() {
				info.Gateway = gw
			}
		}
	}
	// PPP: netifd lists the peer as ptpaddress; the default route points at it.
	if !info.Gateway.IsValid() && len(st.IPv4Addrs) > 0 {
		if gw, err := netip.ParseAddr(st.IPv4Addrs[0].PtpAddress); err == nil {
			info.Gateway = gw
		}
	}
	return info, nil
}

func prefixOf(addr string, bits int) (none netip.Prefix, _ error) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return none, err
	}
	p := netip.PrefixFrom(a, bits) // keeps the host bits, unlike a.Prefix
	if !p.IsValid() {
		return p, fmt.Errorf("bad prefix length %d for %s", bits, addr)
	}
	return p, nil
}

// UbusSource reads the WAN from netifd over ubus, as OpenWrt's own tools do.
// It runs the ubus command (a JSON API) and decodes its answer.
type UbusSource struct {
	// Interface is the logical IPv4 WAN interface (default "wan").
	Interface string
	// IPv6Interface, when set (OpenWrt's default is "wan6"), adds its
	// addresses as IPv6Addresses.
	IPv6Interface string
	// Run executes ubus with the given arguments; nil runs /bin/ubus.
	Run func(ctx context.Context, args ...string) ([]byte, error)
}

// WAN implements InterfaceSource.
func (u UbusSource) WAN() (none Info, _ error) {
	name := u.Interface
	if name == "" {
		name = "wan"
	}
	info, err := u.status(name)
	if err != nil {
		return none, err
	}
	if u.IPv6Interface != "" && u.IPv6Interface != name {
		if v6, err := u.status(u.IPv6Interface); err == nil {
			info.IPv6Device, info.IPv6Addresses = v6.Device, v6.Addresses
		}
	}
	return info, nil
}

func (u UbusSource) status(name string) (none Info, _ error) {
	run := u.Run
	if run == nil {
		run = runUbus
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := run(ctx, "call", "network.interface."+name, "status")
	if err != nil {
		return none, fmt.Errorf("ubus call network.interface.%s status: %w", name, err)
	}
	info, err := ParseUbusStatus(out)
	if err != nil {
		return none, fmt.Errorf("network.interface.%s: %w", name, err)
	}
	return info, nil
}

func runUbus(ctx context.Context, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, "ubus", args...).Output()
}
