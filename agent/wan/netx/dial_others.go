//go:build !linux

package netx

import (
	"context"
	"net"
	"net/netip"
)

// DialTCP connects to addr and gives up when ctx ends. Off Linux it is
// net.Dialer's (the resolver's size only matters on the router).
func DialTCP(ctx context.Context, addr netip.AddrPort) (*net.TCPConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr.String())
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}
