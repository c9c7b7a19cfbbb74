package netx

import (
	"context"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// DialTCP connects to addr and gives up when ctx ends, like net.Dialer's
// DialContext for a "tcp" address. The socket is created on the calling
// goroutine, so on a thread locked into a network namespace it belongs to
// that namespace. Errors are *net.OpError; a refused connection matches
// syscall.ECONNREFUSED, an expired context matches ctx.Err().
func DialTCP(ctx context.Context, addr netip.AddrPort) (*net.TCPConn, error) {
	c, err := dialTCP(ctx, addr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(addr), Err: err}
	}
	return c, nil
}

func dialTCP(ctx context.Context, addr netip.AddrPort) (*net.TCPConn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := startConnect(addr)
	if err != nil {
		return nil, err
	}
	defer f.Close() // net.FileConn works on a duplicate
	if err := waitConnected(ctx, f); err != nil {
		return nil, err
	}
	c, err := net.FileConn(f)
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// startConnect opens a non-blocking socket and starts connecting it. The
// *os.File of a non-blocking descriptor waits in the runtime's poller.
func startConnect(addr netip.AddrPort) (*os.File, error) {
	family, sa := syscall.AF_INET, syscall.Sockaddr(nil)
	ip := addr.Addr().Unmap()
	if ip.Is4() {
		sa = &syscall.SockaddrInet4{Port: int(addr.Port()), Addr: ip.As4()}
	} else {
		family = syscall.AF_INET6
		sa = &syscall.SockaddrInet6{Port: int(addr.Port()), Addr: ip.As16(), ZoneId: zoneID(ip.Zone())}
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_TCP)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := syscall.Connect(fd, sa); err != nil && err != syscall.EINPROGRESS {
		syscall.Close(fd)
		return nil, os.NewSyscallError("connect", err)
	}
	return os.NewFile(uintptr(fd), "tcp"), nil
}

// waitConnected waits until the connect completes, fails, or ctx ends (the
// write deadline interrupts the poller's wait for writability).
func waitConnected(ctx context.Context, f *os.File) error {
	if dl, ok := ctx.Deadline(); ok {
		if err := f.SetWriteDeadline(dl); err != nil {
			return err
		}
	}
	stop := context.AfterFunc(ctx, func() { _ = f.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var connErr error
	werr := rc.Write(func(fd uintptr) bool {
		// Connected once the kernel knows a peer (net's own dial checks so).
		if _, err := syscall.Getpeername(int(fd)); err == nil {
			return true
		}
		n, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
		switch {
		case err != nil:
			connErr = os.NewSyscallError("getsockopt", err)
		case n != 0:
			connErr = os.NewSyscallError("connect", syscall.Errno(n))
		default:
			return false // still in progress: wait until writable
		}
		return true
	})
	switch {
	case connErr != nil:
		return connErr
	case werr != nil && ctx.Err() != nil:
		return ctx.Err()
	}
	return werr
}

// zoneID maps an IPv6 zone (interface name or index) to its index.
func zoneID(zone string) uint32 {
	if zone == "" {
		return 0
	}
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	var n uint32
	for _, ch := range zone {
		if ch < '0' || ch > '9' {
			return 0
		}
		n = n*10 + uint32(ch-'0')
	}
	return n
}
