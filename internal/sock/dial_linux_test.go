package sock

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// fullListener listens on loopback with a zero backlog and never accepts:
// once one connection waits in its queue the kernel drops further SYNs, so
// the next connect hangs like one to a silent host.
func fullListener(t *testing.T) netip.AddrPort {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	ap := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(sa.(*syscall.SockaddrInet4).Port))
	first, err := DialTCP(context.Background(), ap) // fills the queue
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Close() })
	return ap
}

func closedPort(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close()
	return ap
}

// TestDialTCP runs each case through DialTCP and through net.Dialer: both
// must agree on the outcome.
func TestDialTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.Copy(c, c)
			c.Close()
		}
	}()
	open := ln.Addr().(*net.TCPAddr).AddrPort()
	type outcome func(t *testing.T, c conn, err error)
	connected := func(t *testing.T, c conn, err error) {
		if err != nil {
			t.Fatal(err)
		}
		if got := c.remote(); got != open {
			t.Errorf("remote %v, want %v", got, open)
		}
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
			t.Errorf("echo %q, %v", buf, err)
		}
	}
	refused := func(t *testing.T, _ conn, err error) {
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("got %v, want connection refused", err)
		}
	}
	timedOut := func(t *testing.T, _ conn, err error) {
		var ne interface{ Timeout() bool }
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("got %v, want a timeout", err)
		}
	}
	cancelled := func(t *testing.T, _ conn, err error) {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	}
	full := fullListener(t)
	tests := []struct {
		name   string
		addr   netip.AddrPort
		ctx    func() (context.Context, context.CancelFunc)
		expect outcome
	}{
		{"open", open, background, connected},
		{"refused", closedPort(t), background, refused},
		{"deadline", full, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, timedOut},
		{"cancelled", full, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, cancelled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, impl := range []struct {
				name string
				dial func(context.Context, netip.AddrPort) (conn, error)
			}{
				{"sock", func(ctx context.Context, ap netip.AddrPort) (conn, error) {
					c, err := DialTCP(ctx, ap)
					if err != nil {
						return nil, err // not a typed nil in the interface
					}
					return sockConn{c}, nil
				}},
				{"net.Dialer", func(ctx context.Context, ap netip.AddrPort) (conn, error) {
					var d net.Dialer
					c, err := d.DialContext(ctx, "tcp", ap.String())
					if err != nil {
						return nil, err
					}
					return netConn{c}, nil
				}},
			} {
				t.Run(impl.name, func(t *testing.T) {
					ctx, cancel := tc.ctx()
					defer cancel()
					start := time.Now()
					c, err := impl.dial(ctx, tc.addr)
					if c != nil {
						defer c.Close()
					}
					if time.Since(start) > 5*time.Second {
						t.Errorf("took %v", time.Since(start))
					}
					tc.expect(t, c, err)
				})
			}
		})
	}
}

func background() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

// conn is what the outcomes look at, for both implementations.
type conn interface {
	io.ReadWriteCloser
	remote() netip.AddrPort
}

type sockConn struct{ *Conn }

func (c sockConn) remote() netip.AddrPort { return c.RemoteAddr() }

type netConn struct{ net.Conn }

func (c netConn) remote() netip.AddrPort { return c.RemoteAddr().(*net.TCPAddr).AddrPort() }
