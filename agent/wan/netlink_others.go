//go:build !linux

package wan

import (
	"context"
	"errors"
)

// Netlink discovers the WAN over rtnetlink; Linux only.
type Netlink struct {
	// NetNS is a network namespace file descriptor; unused here.
	NetNS int
	// Device overrides the default route's device (config wan_device).
	Device string
}

var errNotLinux = errors.New("wan: netlink discovery needs Linux")

// WAN fails: there is no rtnetlink here.
func (n *Netlink) WAN() (Info, error) { return Info{}, errNotLinux }

// Subscribe fails: there is no rtnetlink here.
func (n *Netlink) Subscribe(context.Context, func()) error { return errNotLinux }
