package agent

import (
	"errors"
	"fmt"
	"github.com/vpnpass/vpnpass/agent/logx"
	"github.com/vpnpass/vpnpass/vpn"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestModeChangeWithoutCtNetlink: without kmod-nf-conntrack-netlink the
// kernel answers EINVAL to the flow deletion after a mode change. The change
// must not fail, and one event (not one per change) names the package.
// Other errors still fail the step.
func TestModeChangeWithoutCtNetlink(t *testing.T) {
	d := &Daemon{log: logx.Discard(), limit: newLogLimiter(time.Minute)}
	einval := func([]vpn.Protocol) error {
		return fmt.Errorf("forget udp dport 500 flows: %w", fmt.Errorf("netlink receive: %w", syscall.EINVAL))
	}
	forget := d.tolerateNoCtNetlink(einval)
	for _, p := range []vpn.Protocol{vpn.IPsec, vpn.PPTP, vpn.IPsec} {
		if err := forget([]vpn.Protocol{p}); err != nil {
			t.Fatalf("mode change of %s fails without conntrack netlink: %v", p, err)
		}
	}
	if len(d.early) != 1 || !strings.Contains(d.early[0].Message, CtNetlinkPackage) {
		t.Fatalf("events %+v, want exactly one naming %s", d.early, CtNetlinkPackage)
	}
	perm := d.tolerateNoCtNetlink(func([]vpn.Protocol) error { return fmt.Errorf("forget: %w", syscall.EPERM) })
	if err := perm([]vpn.Protocol{vpn.L2TP}); !errors.Is(err, syscall.EPERM) {
		t.Errorf("another error was swallowed: %v", err)
	}
}
