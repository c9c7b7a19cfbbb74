//go:build !linux

package sock

import (
	"context"
	"net/netip"

	"github.com/vpnpass/vpnpass/internal/platform"
)

// DialUDP fails: sockets are Linux only here.
func DialUDP(netip.AddrPort) (*Conn, error) { return nil, platform.ErrNotLinux }

// ListenUDP4 fails: sockets are Linux only here.
func ListenUDP4() (*Conn, error) { return nil, platform.ErrNotLinux }

// DialTCP fails: sockets are Linux only here.
func DialTCP(context.Context, netip.AddrPort) (*Conn, error) { return nil, platform.ErrNotLinux }

// DialUnix fails: sockets are Linux only here.
func DialUnix(string) (*Conn, error) { return nil, platform.ErrNotLinux }

// ListenUnix fails: sockets are Linux only here.
func ListenUnix(string) (*Listener, error) { return nil, platform.ErrNotLinux }

// Accept fails: sockets are Linux only here.
func (l *Listener) Accept() (*Conn, error) { return nil, platform.ErrNotLinux }

// ReadFrom fails: sockets are Linux only here.
func (c *Conn) ReadFrom([]byte) (int, netip.AddrPort, error) {
	return 0, netip.AddrPort{}, platform.ErrNotLinux
}

// WriteTo fails: sockets are Linux only here.
func (c *Conn) WriteTo([]byte, netip.AddrPort) (int, error) { return 0, platform.ErrNotLinux }

// LocalAddr is unknown off Linux.
func (c *Conn) LocalAddr() netip.AddrPort { return netip.AddrPort{} }

// RemoteAddr is unknown off Linux.
func (c *Conn) RemoteAddr() netip.AddrPort { return netip.AddrPort{} }

// Links fails: rtnetlink is Linux only.
func Links() ([]Link, error) { return nil, platform.ErrNotLinux }

// LinkByName fails: rtnetlink is Linux only.
func LinkByName(string) (Link, bool, error) { return Link{}, false, platform.ErrNotLinux }
