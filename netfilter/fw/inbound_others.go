//go:build !linux

package fw

import (
	"fmt"

	"github.com/vpnpass/vpnpass/internal/platform"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/vpn"
)

// InspectInbound needs Linux netfilter.
func InspectInbound(o InboundOptions) (map[vpn.Protocol][]netfilter.InboundStatus, error) {
	return nil, fmt.Errorf("inspect inbound: %w", platform.ErrNotLinux)
}
