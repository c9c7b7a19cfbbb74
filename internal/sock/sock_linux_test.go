package sock

import (
	"bufio"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// Links must see what net.Interfaces sees: names, flags and addresses.
func TestLinksMatchNet(t *testing.T) {
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	links, err := Links()
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != len(ifs) {
		t.Fatalf("%d links, net has %d", len(links), len(ifs))
	}
	for _, ifc := range ifs {
		l, ok, err := LinkByName(ifc.Name)
		if !ok || err != nil || l.Index != ifc.Index || l.Up != (ifc.Flags&net.FlagUp != 0) || l.Loopback != (ifc.Flags&net.FlagLoopback != 0) {
			t.Errorf("%s: got %+v, %v, %v; net has %+v", ifc.Name, l, ok, err, ifc)
			continue
		}
		addrs, _ := ifc.Addrs()
		var want []string
		for _, a := range addrs {
			ipn := a.(*net.IPNet)
			ip, _ := netip.AddrFromSlice(ipn.IP)
			bits, _ := ipn.Mask.Size()
			if ip.Is4In6() && bits > 32 {
				bits -= 96
			}
			want = append(want, netip.PrefixFrom(ip.Unmap(), bits).String())
		}
		var got []string
		for _, p := range l.Prefixes {
			got = append(got, p.String())
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: addresses %v, net has %v", ifc.Name, got, want)
		}
	}
	if _, ok, _ := LinkByName("no-such-link0"); ok {
		t.Error("found a link that does not exist")
	}
}

// The API's socket: listen, dial, echo a line, deadlines, Close unblocking
// Accept, and the errnos a client tells apart.
func TestUnix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	if _, err := DialUnix(path); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("missing socket: %v", err)
	}
	ln, err := ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		line, _ := bufio.NewReader(c).ReadString('\n')
		_, _ = c.Write([]byte("re: " + line))
	}()
	c, err := DialUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); !IsTimeout(err) {
		t.Errorf("read past the deadline: %v", err)
	}
	_ = c.SetReadDeadline(time.Time{})
	if _, err := c.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	if got, err := bufio.NewReader(c).ReadString('\n'); got != "re: ping\n" || err != nil {
		t.Fatalf("got %q, %v", got, err)
	}
	done := make(chan error, 1)
	go func() { _, err := ln.Accept(); done <- err }()
	time.Sleep(20 * time.Millisecond)
	ln.Close()
	if err := <-done; err == nil {
		t.Errorf("Accept after Close: %v", err)
	}
	if _, err := DialUnix(path); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("stale socket: %v", err)
	}
}

// UDP: a connected socket's addresses, an empty datagram (not EOF), ICMP
// port unreachable as ECONNREFUSED, and an unconnected socket's WriteTo
// and ReadFrom.
func TestUDP(t *testing.T) {
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	srv := pc.LocalAddr().(*net.UDPAddr).AddrPort()
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteToUDPAddrPort(nil, from)
			_, _ = pc.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	c, err := DialUDP(srv)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.RemoteAddr() != srv || !c.LocalAddr().Addr().Is4() || c.LocalAddr().Port() == 0 {
		t.Errorf("addresses %v -> %v", c.LocalAddr(), c.RemoteAddr())
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 64)
	if _, err := c.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Read(buf); n != 0 || err != nil {
		t.Errorf("empty datagram: %d, %v", n, err)
	}
	if n, err := c.Read(buf); string(buf[:n]) != "hi" || err != nil {
		t.Errorf("echo: %q, %v", buf[:n], err)
	}

	u, err := ListenUDP4()
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	_ = u.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := u.WriteTo([]byte("yo"), srv); err != nil {
		t.Fatal(err)
	}
	u.ReadFrom(buf) // the empty one
	if n, from, err := u.ReadFrom(buf); string(buf[:n]) != "yo" || from != srv || err != nil {
		t.Errorf("ReadFrom: %q from %v, %v", buf[:n], from, err)
	}

	closed, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	dead := closed.LocalAddr().(*net.UDPAddr).AddrPort()
	closed.Close()
	r, err := DialUDP(dead)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_ = r.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _ = r.Write([]byte("x"))
	if _, err := r.Read(buf); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("closed port: %v", err)
	}
}
