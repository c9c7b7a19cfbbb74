package sock

import (
	"context"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

const sockFlags = unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC

// newFile wraps a non-blocking descriptor: os.NewFile registers it with
// the runtime's poller.
func newFile(fd int, name string) *os.File { return os.NewFile(uintptr(fd), name) }

// sockaddr is addr as the kernel's address and its family.
func sockaddr(addr netip.AddrPort) (unix.Sockaddr, int) {
	ip := addr.Addr()
	if ip.Is4() || ip.Is4In6() {
		return &unix.SockaddrInet4{Port: int(addr.Port()), Addr: ip.Unmap().As4()}, unix.AF_INET
	}
	return &unix.SockaddrInet6{Port: int(addr.Port()), Addr: ip.As16(), ZoneId: zoneIndex(ip.Zone())}, unix.AF_INET6
}

// addrPort is the kernel's address as netip's (IPv4-mapped unmapped).
func addrPort(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	return netip.AddrPort{}
}

// open creates a socket and starts connecting it to sa (nil: unconnected).
// A stream connect that is in progress is waited for by the caller.
func open(family, typ int, sa unix.Sockaddr, name string) (*os.File, error) {
	fd, err := unix.Socket(family, typ|sockFlags, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if sa != nil {
		if err := unix.Connect(fd, sa); err != nil && err != unix.EINPROGRESS {
			unix.Close(fd)
			return nil, os.NewSyscallError("connect", err)
		}
	}
	return newFile(fd, name), nil
}

// DialUDP opens a UDP socket connected to addr. A failure to connect (no
// route) is returned at once; ICMP errors arrive on Read and Write as
// errnos (ECONNREFUSED for port unreachable).
func DialUDP(addr netip.AddrPort) (*Conn, error) {
	sa, family := sockaddr(addr)
	f, err := open(family, unix.SOCK_DGRAM, sa, "udp")
	if err != nil {
		return nil, &os.PathError{Op: "dial udp", Path: addr.String(), Err: err}
	}
	return &Conn{f: f}, nil
}

// ListenUDP4 opens an unbound IPv4 UDP socket for WriteTo and ReadFrom
// (the first WriteTo binds it to an ephemeral port).
func ListenUDP4() (*Conn, error) {
	f, err := open(unix.AF_INET, unix.SOCK_DGRAM, nil, "udp")
	if err != nil {
		return nil, err
	}
	return &Conn{f: f}, nil
}

// DialTCP connects to addr and gives up when ctx ends. A refused
// connection matches unix.ECONNREFUSED, an expired context ctx.Err().
func DialTCP(ctx context.Context, addr netip.AddrPort) (*Conn, error) {
	c, err := dialTCP(ctx, addr)
	if err != nil {
		return nil, &os.PathError{Op: "dial tcp", Path: addr.String(), Err: err}
	}
	return c, nil
}

func dialTCP(ctx context.Context, addr netip.AddrPort) (*Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sa, family := sockaddr(addr)
	f, err := open(family, unix.SOCK_STREAM, sa, "tcp")
	if err != nil {
		return nil, err
	}
	if err := waitConnected(ctx, f); err != nil {
		f.Close()
		return nil, err
	}
	return &Conn{f: f, stream: true}, nil
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
		if _, err := unix.Getpeername(int(fd)); err == nil {
			return true
		}
		n, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		switch {
		case err != nil:
			connErr = os.NewSyscallError("getsockopt", err)
		case n != 0:
			connErr = os.NewSyscallError("connect", unix.Errno(n))
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
	if werr == nil {
		_ = f.SetWriteDeadline(time.Time{})
	}
	return werr
}

// DialUnix connects to the unix stream socket at path. It never waits: a
// listener whose backlog is full fails at once (EAGAIN), a missing socket
// with ENOENT, a stale one with ECONNREFUSED.
func DialUnix(path string) (*Conn, error) {
	f, err := open(unix.AF_UNIX, unix.SOCK_STREAM, &unix.SockaddrUnix{Name: path}, "unix")
	if err != nil {
		return nil, &os.PathError{Op: "dial unix", Path: path, Err: err}
	}
	return &Conn{f: f, stream: true}, nil
}

// ListenUnix binds a unix stream socket at path and listens on it with the
// kernel's largest backlog (net.core.somaxconn, as package net does).
func ListenUnix(path string) (*Listener, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|sockFlags, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err = unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		err = os.NewSyscallError("bind", err)
	} else if err = unix.Listen(fd, 0xffff); err != nil { // the kernel caps it at somaxconn
		err = os.NewSyscallError("listen", err)
	}
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &Listener{f: newFile(fd, path)}, nil
}

// Accept waits for a connection (Close interrupts it). Out of descriptors
// it returns an error matching unix.EMFILE.
func (l *Listener) Accept() (*Conn, error) {
	rc, err := l.f.SyscallConn()
	if err != nil {
		return nil, err
	}
	nfd := -1
	var aerr error
	err = rc.Read(func(fd uintptr) bool {
		for aerr = unix.ECONNABORTED; aerr == unix.ECONNABORTED; { // gone before accepted: next
			nfd, _, aerr = unix.Accept4(int(fd), sockFlags)
		}
		return aerr != unix.EAGAIN
	})
	if err == nil && aerr != nil {
		err = os.NewSyscallError("accept", aerr)
	}
	if err != nil {
		return nil, err
	}
	return &Conn{f: newFile(nfd, "unix"), stream: true}, nil
}

// ReadFrom reads one datagram and its sender.
func (c *Conn) ReadFrom(b []byte) (int, netip.AddrPort, error) {
	rc, err := c.f.SyscallConn()
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	var n int
	var from unix.Sockaddr
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		n, from, rerr = unix.Recvfrom(int(fd), b, 0)
		return rerr != unix.EAGAIN
	})
	if err == nil && rerr != nil {
		err = os.NewSyscallError("recvfrom", rerr)
	}
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	return n, addrPort(from), nil
}

// WriteTo sends one datagram to addr.
func (c *Conn) WriteTo(b []byte, addr netip.AddrPort) (int, error) {
	rc, err := c.f.SyscallConn()
	if err != nil {
		return 0, err
	}
	sa, _ := sockaddr(addr)
	var werr error
	err = rc.Write(func(fd uintptr) bool {
		werr = unix.Sendto(int(fd), b, 0, sa)
		return werr != unix.EAGAIN
	})
	if err == nil && werr != nil {
		err = os.NewSyscallError("sendto", werr)
	}
	if err != nil {
		return 0, err
	}
	return len(b), nil
}

// LocalAddr is the socket's own address and port (IPv4-mapped unmapped).
func (c *Conn) LocalAddr() netip.AddrPort { return c.name(unix.Getsockname) }

// RemoteAddr is the connected peer's address and port.
func (c *Conn) RemoteAddr() netip.AddrPort { return c.name(unix.Getpeername) }

func (c *Conn) name(get func(int) (unix.Sockaddr, error)) netip.AddrPort {
	var sa unix.Sockaddr
	if rc, err := c.f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { sa, _ = get(int(fd)) })
	}
	return addrPort(sa)
}
