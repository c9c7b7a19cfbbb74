package lab

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// The echo servers answer every datagram (UDP) or connection (TCP) with
// the source address they saw, a newline, then the payload: tests assert
// the NAT from it (in double NAT the server sees the isp's outer address).

// ServeUDPEcho starts a UDP echo server on addr inside the node. It stops
// when the returned closer is closed or the lab is closed.
func (n *Node) ServeUDPEcho(addr netip.AddrPort) (io.Closer, error) {
	var conn *net.UDPConn
	err := n.Do(func() (err error) {
		conn, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("udp echo on %s in %s: %w", addr, n.NS, err)
	}
	go func() {
		buf := make([]byte, 65535)
		for {
			m, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue // e.g. ECONNREFUSED from an earlier reply: keep serving
			}
			_, _ = conn.WriteToUDPAddrPort(echoReply(from, buf[:m]), from)
		}
	}()
	c := closeOnce(conn.Close)
	n.onClose(c.Close)
	return c, nil
}

// ServeTCPEcho starts a TCP echo server on addr inside the node: each
// connection is read until the client closes its sending side, then
// answered and closed.
func (n *Node) ServeTCPEcho(addr netip.AddrPort) (io.Closer, error) {
	var ln *net.TCPListener
	err := n.Do(func() (err error) {
		ln, err = net.ListenTCP("tcp", net.TCPAddrFromAddrPort(addr))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tcp echo on %s in %s: %w", addr, n.NS, err)
	}
	go func() {
		for {
			c, err := ln.AcceptTCP()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			go serveTCPConn(c)
		}
	}()
	c := closeOnce(ln.Close)
	n.onClose(c.Close)
	return c, nil
}

func serveTCPConn(c *net.TCPConn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	data, err := io.ReadAll(io.LimitReader(c, 1<<20))
	if err != nil {
		return
	}
	from := c.RemoteAddr().(*net.TCPAddr).AddrPort()
	_, _ = c.Write(echoReply(from, data))
}

func echoReply(from netip.AddrPort, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString(unmap(from).String())
	b.WriteByte('\n')
	b.Write(payload)
	return b.Bytes()
}

func parseEchoReply(b []byte) (payload []byte, seen netip.AddrPort, err error) {
	line, rest, ok := bytes.Cut(b, []byte("\n"))
	if !ok {
		return nil, netip.AddrPort{}, fmt.Errorf("echo reply without address line: %q", b)
	}
	seen, err = netip.ParseAddrPort(string(line))
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("echo reply: %w", err)
	}
	return rest, seen, nil
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// UDPExchange sends payload from a connected UDP socket inside from to dst
// and waits up to timeout for the echo. It returns the echoed payload and
// the source address the server saw. An ICMP unreachable coming back (a
// reject) surfaces as a "connection refused" error; silence as a timeout
// (errors.Is(err, os.ErrDeadlineExceeded)).
func UDPExchange(from *Node, dst netip.AddrPort, payload []byte, timeout time.Duration) ([]byte, netip.AddrPort, error) {
	var conn *net.UDPConn
	err := from.Do(func() (err error) {
		conn, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(dst))
		return err
	})
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("dial udp %s from %s: %w", dst, from.NS, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(payload); err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("send udp to %s from %s: %w", dst, from.NS, err)
	}
	buf := make([]byte, 65535)
	m, err := conn.Read(buf)
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("udp reply from %s to %s: %w", dst, from.NS, err)
	}
	return parseEchoReply(buf[:m])
}

// TCPExchange connects from the node to dst, sends payload, closes its
// sending side and reads the echo until the server closes. A reject by TCP
// reset surfaces as "connection refused".
func TCPExchange(from *Node, dst netip.AddrPort, payload []byte, timeout time.Duration) ([]byte, netip.AddrPort, error) {
	var conn *net.TCPConn
	err := from.Do(func() error {
		d := net.Dialer{Timeout: timeout}
		c, err := d.Dial("tcp", dst.String())
		if err != nil {
			return err
		}
		conn = c.(*net.TCPConn)
		return nil
	})
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("dial tcp %s from %s: %w", dst, from.NS, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(payload); err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("send tcp to %s from %s: %w", dst, from.NS, err)
	}
	_ = conn.CloseWrite()
	b, err := io.ReadAll(bufio.NewReader(conn))
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("tcp reply from %s to %s: %w", dst, from.NS, err)
	}
	return parseEchoReply(b)
}

type onceCloser struct {
	once sync.Once
	fn   func() error
	err  error
}

func closeOnce(fn func() error) *onceCloser { return &onceCloser{fn: fn} }

func (c *onceCloser) Close() error {
	c.once.Do(func() { c.err = c.fn() })
	return c.err
}
