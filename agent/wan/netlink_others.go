//go:build !linux

package wan

import (
	"context"

	"github.com/vpnpass/vpnpass/internal/platform"
)

// Netlink discovers the WAN over rtnetlink; Linux only.
type Netlink struct {
	// NetNS is a network namespace file descriptor; unused here.
	NetNS int
	// Device overrides the default route's device (config wan_device).
	Device string
}

// WAN fails: there is no rtnetlink here.
func (n *Netlink) WAN() (Info, error) { return Info{}, platform.ErrNotLinux }

// Subscribe fails: there is no rtnetlink here.
func (n *Netlink) Subscribe(context.Context, func()) error { return platform.ErrNotLinux }
