package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// udpServer answers each datagram on a loopback port with reply(req, n),
// n counting from 1; nil replies stay silent. Requests are kept.
type udpServer struct {
	port int
	mu   sync.Mutex
	reqs [][]byte
}

func newUDPServer(t *testing.T, reply func(req []byte, n int) [][]byte) *udpServer {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &udpServer{port: pc.LocalAddr().(*net.UDPAddr).Port}
	done := make(chan struct{})
	t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			m, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			req := append([]byte(nil), buf[:m]...)
			s.mu.Lock()
			s.reqs = append(s.reqs, req)
			n := len(s.reqs)
			s.mu.Unlock()
			for _, r := range reply(req, n) {
				_, _ = pc.WriteTo(r, from)
			}
		}
	}()
	return s
}

func (s *udpServer) requests() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.reqs...)
}

// tcpServer runs handle on each accepted connection.
func tcpServer(t *testing.T, handle func(c net.Conn)) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); defer c.Close(); handle(c) }()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// closedPort returns a port nothing listens on (bound, then released).
func closedPort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		return pc.LocalAddr().(*net.UDPAddr).Port
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ikeAnswer answers an IKE_SA_INIT (with or without non-ESP marker) as a
// server that accepts none of the proposals.
func ikeAnswer(req []byte, _ int) [][]byte {
	var marker []byte
	if len(req) > 4 && bytes.Equal(req[:4], make([]byte, 4)) {
		marker, req = req[:4], req[4:]
	}
	if len(req) < 28 {
		return nil
	}
	return [][]byte{append(append([]byte(nil), marker...), ikeResponse([8]byte(req[:8]), 0x20, 34, 0x20, notifyPayload(14))...)}
}

// l2tpAnswer answers an SCCRQ with an SCCRP assigning tunnel 0x4444.
func l2tpAnswer(t *testing.T) func(req []byte, n int) [][]byte {
	return func(req []byte, n int) [][]byte {
		if n > 1 {
			return nil // the StopCCN
		}
		var peer uint16
		for _, a := range parseAVPs(t, req[12:]) {
			if a.typ == 9 {
				peer = binary.BigEndian.Uint16(a.value)
			}
		}
		avps := buildAVPs(testAVP{0x8000, 0, 0, []byte{0, 2}}, testAVP{0x8000, 0, 9, []byte{0x44, 0x44}},
			testAVP{0x8000, 0, 7, []byte("lns")})
		return [][]byte{l2tpMessage(0xC802, peer, avps)}
	}
}

// pptpAnswer answers SCCRQ with SCCRP and reports the next message read.
func pptpAnswer(next chan<- []byte) func(c net.Conn) {
	return func(c net.Conn) {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		req := make([]byte, 156)
		if _, err := io.ReadFull(c, req); err != nil {
			return
		}
		_, _ = c.Write(sccrp(1, "pns", "test"))
		stop := make([]byte, 16)
		if _, err := io.ReadFull(c, stop); err == nil {
			next <- stop
		}
	}
}

// drain reads until the peer closes, never answering.
func drain(c net.Conn) { _, _ = io.Copy(io.Discard, c) }

var fast = Options{Timeout: 50 * time.Millisecond, Retries: 2}

func all() map[string]bool { return map[string]bool{IPsec: true, PPTP: true, L2TP: true} }

func TestRunAnswered(t *testing.T) {
	ike, natt := newUDPServer(t, ikeAnswer), newUDPServer(t, ikeAnswer)
	l2tp := newUDPServer(t, l2tpAnswer(t))
	stopRQ := make(chan []byte, 1)
	pptp := tcpServer(t, pptpAnswer(stopRQ))

	res := run(context.Background(), loopback, all(), ports{ike.port, natt.port, pptp, l2tp.port}, fast)
	want := []struct {
		proto, transport string
		port             int
		detail           string
	}{
		{IPsec, "udp", ike.port, "NO_PROPOSAL_CHOSEN"},
		{IPsec, "udp", natt.port, "NO_PROPOSAL_CHOSEN"},
		{PPTP, "tcp", pptp, "SCCRP from host pns (vendor test), connection established"},
		{L2TP, "udp", l2tp.port, "SCCRP from host lns"},
	}
	if len(res) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(res), len(want), res)
	}
	for i, w := range want {
		r := res[i]
		if r.Protocol != w.proto || r.Transport != w.transport || r.Port != w.port || r.Outcome != Answered ||
			!strings.Contains(r.Detail, w.detail) || r.RTTMs <= 0 {
			t.Errorf("result %d = %+v, want %s/%s %d answered with %q and an RTT", i, r, w.proto, w.transport, w.port, w.detail)
		}
	}
	if reqs := natt.requests(); len(reqs) != 1 || !bytes.Equal(reqs[0][:4], make([]byte, 4)) {
		t.Errorf("UDP 4500 requests %d, first without the non-ESP marker", len(reqs))
	}
	if reqs := ike.requests(); len(reqs) != 1 || bytes.Equal(reqs[0][:4], make([]byte, 4)) {
		t.Errorf("UDP 500 got %d requests or one with a marker", len(reqs))
	}
	// The probe closes the tunnel and control connection it opened.
	waitFor(t, func() bool { return len(l2tp.requests()) == 2 })
	r, err := decodeL2TP(l2tp.requests()[1], 0x4444)
	if err != nil || r.msgType != msgStopCCN {
		t.Errorf("second L2TP datagram %+v (%v), want StopCCN to tunnel 0x4444", r, err)
	}
	select {
	case m := <-stopRQ:
		if binary.BigEndian.Uint16(m[8:10]) != 3 {
			t.Errorf("after SCCRP the probe sent control type %d, want StopCCRQ", binary.BigEndian.Uint16(m[8:10]))
		}
	case <-time.After(5 * time.Second):
		t.Error("no StopCCRQ after the SCCRP")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("condition not met in 5 s")
		}
	}
}

func TestRunRefused(t *testing.T) {
	p := ports{closedPort(t, "udp"), closedPort(t, "udp"), closedPort(t, "tcp"), closedPort(t, "udp")}
	res := run(context.Background(), loopback, all(), p, fast)
	for _, r := range res {
		want := "ICMP port unreachable"
		if r.Transport == "tcp" {
			want = "TCP reset"
		}
		if r.Outcome != Refused || !strings.HasPrefix(r.Detail, want) {
			t.Errorf("%s %d: %+v, want refused with %q", r.Transport, r.Port, r, want)
		}
	}
}

func TestRunSilent(t *testing.T) {
	// Strays: garbage, and an IKE answer for someone else's SPI.
	stray := func(req []byte, _ int) [][]byte {
		other := ikeAnswer(append([]byte{9}, req[1:]...), 0)
		return append([][]byte{[]byte("garbage")}, other...)
	}
	ike, natt, l2tp := newUDPServer(t, stray), newUDPServer(t, func([]byte, int) [][]byte { return nil }), newUDPServer(t, stray)
	pptp := tcpServer(t, drain)

	res := run(context.Background(), loopback, all(), ports{ike.port, natt.port, pptp, l2tp.port}, fast)
	wantDetail := []string{"no reply to 3 requests (6 unrelated datagrams ignored)", "no reply to 3 requests",
		"no reply to Start-Control-Connection-Request", "no reply to 3 requests (6 unrelated datagrams ignored)"}
	for i, r := range res {
		if r.Outcome != Silent || !strings.Contains(r.Detail, wantDetail[i]) || r.RTTMs != 0 {
			t.Errorf("result %d = %+v, want silent with %q", i, r, wantDetail[i])
		}
	}
	// Retransmissions are the same request, so a server sees one attempt.
	reqs := ike.requests()
	if len(reqs) != 3 || !bytes.Equal(reqs[0], reqs[1]) || !bytes.Equal(reqs[1], reqs[2]) {
		t.Errorf("UDP 500 got %d requests, want 3 identical ones", len(reqs))
	}
}

func TestRunRetransmitAnswered(t *testing.T) {
	third := func(req []byte, n int) [][]byte {
		if n < 3 {
			return nil
		}
		return ikeAnswer(req, n)
	}
	ike := newUDPServer(t, third)
	res := run(context.Background(), loopback, map[string]bool{IPsec: true}, ports{ike: ike.port, natt: closedPort(t, "udp")}, fast)
	if len(res) != 2 || res[0].Outcome != Answered || res[1].Outcome != Refused {
		t.Fatalf("results %+v, want UDP 500 answered after retries and 4500 refused", res)
	}
}

func TestRunPPTPNotPPTP(t *testing.T) {
	tests := []struct {
		name   string
		handle func(c net.Conn)
		detail string
	}{
		{"other service", func(c net.Conn) { _, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n")) }, "not PPTP"},
		{"closes", func(c net.Conn) {}, "closed the connection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := tcpServer(t, tt.handle)
			res := run(context.Background(), loopback, map[string]bool{PPTP: true}, ports{pptp: port}, fast)
			if len(res) != 1 || res[0].Outcome != Refused || !strings.Contains(res[0].Detail, tt.detail) {
				t.Errorf("results %+v, want refused with %q", res, tt.detail)
			}
		})
	}
}

// TestRunCanceled: a probe with an hour's budget returns when its context
// ends, every port silent and saying so, with no goroutine left behind.
func TestRunCanceled(t *testing.T) {
	silent := func([]byte, int) [][]byte { return nil }
	ike, natt, l2tp := newUDPServer(t, silent), newUDPServer(t, silent), newUDPServer(t, silent)
	pptp := tcpServer(t, drain)
	before := runtime.NumGoroutine()

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(ike.requests()) == 0 || len(l2tp.requests()) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	res := run(ctx, loopback, all(), ports{ike.port, natt.port, pptp, l2tp.port}, Options{Timeout: time.Hour, Retries: 1})
	for _, r := range res {
		if r.Outcome != Silent {
			t.Errorf("%+v, want silent", r)
		}
		if r.Transport == "udp" && !strings.Contains(r.Detail, "cut short") {
			t.Errorf("%+v does not say the probe was cut short", r)
		}
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}

func TestValidate(t *testing.T) {
	tests := []struct {
		host   string
		protos []string
		want   string // protocols, or "error"
	}{
		{"203.0.113.10", nil, "ipsec,l2tp,pptp"},
		{"203.0.113.10", []string{""}, "ipsec,l2tp,pptp"},
		{"192.168.1.20", []string{"PPTP", " l2tp"}, "l2tp,pptp"},
		{"::ffff:198.51.100.1", []string{"ipsec"}, "ipsec"},
		{"2001:db8::1", []string{"ipsec"}, "ipsec"},
		{"203.0.113.10", []string{"openvpn"}, "error"},
		{"0.0.0.0", nil, "error"},
		{"::", nil, "error"},
		{"255.255.255.255", nil, "error"},
		{"224.0.0.1", nil, "error"},
		{"ff02::1", nil, "error"},
		{"", nil, "error"},
	}
	for _, tt := range tests {
		var host netip.Addr
		if tt.host != "" {
			host = netip.MustParseAddr(tt.host)
		}
		want, err := validate(host, tt.protos)
		got := "error"
		if err == nil {
			var names []string
			for _, p := range []string{IPsec, L2TP, PPTP} {
				if want[p] {
					names = append(names, p)
				}
			}
			got = strings.Join(names, ",")
		} else if !errors.Is(err, ErrInvalid) {
			t.Errorf("validate(%q, %v) error %v does not match ErrInvalid", tt.host, tt.protos, err)
		}
		if got != tt.want {
			t.Errorf("validate(%q, %v) = %s (%v), want %s", tt.host, tt.protos, got, err, tt.want)
		}
	}
	if _, err := Run(context.Background(), netip.Addr{}, nil, Options{}); err == nil || err.Error() != "host must be an IP address" {
		t.Errorf("Run with no host: %v", err)
	}
	if _, err := Run(context.Background(), loopback, []string{"gre"}, Options{}); err == nil ||
		err.Error() != "protocol must be one of pptp, l2tp, ipsec" {
		t.Errorf("Run with protocol gre: %v", err)
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		in     Options
		budget time.Duration
	}{
		{Options{}, 7 * time.Second},
		{Options{Timeout: 500 * time.Millisecond, Retries: 3}, 7500 * time.Millisecond},
		{Options{Timeout: time.Second, Retries: -1}, time.Second},
		{Options{Timeout: time.Millisecond, Retries: 100}, 511 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := tt.in.withDefaults().budget(); got != tt.budget {
			t.Errorf("%+v: budget %v, want %v", tt.in, got, tt.budget)
		}
	}
}
