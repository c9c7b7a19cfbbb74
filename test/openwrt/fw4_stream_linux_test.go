package openwrt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// udpStream sends LAN→internet UDP to the lab's echo servers while the
// firewall is reloaded. Per port and per tick it sends two packets:
//
//   - one on a NEW flow (a source port never used before in the run): fw4's
//     `ct state established accept` cannot help it, so it is answered only
//     if a rule accepts new IKE / NAT-T traffic at that instant. A lost one
//     is a gap in passthrough.
//   - one on the port's long-lived flow (one socket for the whole run): it
//     rides its conntrack entry and is lost only if that entry is destroyed
//     while nothing accepts new flows.
type udpStream struct {
	interval time.Duration
	ports    []uint16
	stop     chan struct{}
	done     chan struct{}

	mu    sync.Mutex
	fresh []probe // one per new-flow packet, in send order
	err   error

	long []*longFlow
	wg   sync.WaitGroup // readers of fresh flows
}

// probe is one packet on a new flow.
type probe struct {
	port     uint16
	sent     time.Time
	answered bool
	unsent   bool // the source port could not be bound: not counted
}

// longFlow is one port's long-lived flow.
type longFlow struct {
	port  uint16
	conn  *net.UDPConn
	local netip.AddrPort
	sent  atomic.Uint64
	got   atomic.Uint64

	mu     sync.Mutex
	sentAt map[uint32]time.Time // by sequence number
	echoed map[uint32]bool
}

// freshPortBase is the first source port of the new flows; each
// destination port gets its own block of freshPortBlock ports, so a tuple
// is never reused within a run (an old conntrack entry would pass it).
const (
	freshPortBase  = 20000
	freshPortBlock = 20000
)

// startUDPStream starts the stream from the LAN host to lab.Server.
func startUDPStream(l *lab.Lab, interval time.Duration, ports ...uint16) (*udpStream, error) {
	s := &udpStream{interval: interval, ports: ports, stop: make(chan struct{}), done: make(chan struct{})}
	for _, p := range ports {
		f := &longFlow{port: p, sentAt: map[uint32]time.Time{}, echoed: map[uint32]bool{}}
		if err := l.LAN.Do(func() (err error) {
			f.conn, err = net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(lab.Server, p)))
			return err
		}); err != nil {
			s.closeLong()
			return nil, fmt.Errorf("long-lived flow to udp/%d: %w", p, err)
		}
		f.local = f.conn.LocalAddr().(*net.UDPAddr).AddrPort()
		s.long = append(s.long, f)
		go f.read()
	}
	go func() {
		defer close(s.done)
		err := l.LAN.Do(s.send)
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
	}()
	return s, nil
}

// send runs on a thread inside the LAN namespace, so every socket it opens
// belongs there.
func (s *udpStream) send() error {
	tick := time.NewTicker(s.interval)
	defer tick.Stop()
	var seq uint32
	for n := 0; ; n++ {
		select {
		case <-s.stop:
			return nil
		case <-tick.C:
		}
		if n >= freshPortBlock {
			return errors.New("udp stream: ran out of fresh source ports")
		}
		seq++
		for i, p := range s.ports {
			s.sendFresh(p, uint16(freshPortBase+i*freshPortBlock+n))
			f := s.long[i]
			f.mu.Lock()
			f.sentAt[seq] = time.Now()
			f.mu.Unlock()
			if _, err := f.conn.Write(binary.BigEndian.AppendUint32(nil, seq)); err == nil {
				f.sent.Add(1)
			}
		}
	}
}

func (s *udpStream) sendFresh(dport, sport uint16) {
	s.mu.Lock()
	i := len(s.fresh)
	s.fresh = append(s.fresh, probe{port: dport, sent: time.Now()})
	s.mu.Unlock()
	c, err := net.DialUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(lab.LANHost, sport)),
		net.UDPAddrFromAddrPort(netip.AddrPortFrom(lab.Server, dport)))
	if err == nil {
		_, err = c.Write([]byte("ike?"))
	}
	if err != nil {
		if c != nil {
			c.Close()
		}
		s.mu.Lock()
		s.fresh[i].unsent = true
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer c.Close()
		// A reject answers with ICMP port unreachable: Read fails at once
		// with ECONNREFUSED; silence times out.
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 512)
		if _, err := c.Read(buf); err == nil {
			s.mu.Lock()
			s.fresh[i].answered = true
			s.mu.Unlock()
		}
	}()
}

func (f *longFlow) read() {
	buf := make([]byte, 512)
	for {
		n, err := f.conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ECONNREFUSED of a rejected packet: the flow goes on
		}
		f.got.Add(1)
		// The echo is "<address seen>\n" and our payload: the sequence.
		if _, payload, ok := bytes.Cut(buf[:n], []byte("\n")); ok && len(payload) == 4 {
			f.mu.Lock()
			f.echoed[binary.BigEndian.Uint32(payload)] = true
			f.mu.Unlock()
		}
	}
}

// lostBetween counts the flow's unanswered packets sent in [from, to).
func (f *longFlow) lostBetween(from, to time.Time) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for seq, at := range f.sentAt {
		if !f.echoed[seq] && !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

// Stop ends the stream, waits for the answers still on their way and
// reports an error of the sender.
func (s *udpStream) Stop() error {
	close(s.stop)
	<-s.done
	s.wg.Wait()
	time.Sleep(300 * time.Millisecond) // the long flows' last echoes
	s.closeLong()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *udpStream) closeLong() {
	for _, f := range s.long {
		f.conn.Close()
	}
}

// longLostBetween counts unanswered packets of the long-lived flows sent
// in [from, to).
func (s *udpStream) longLostBetween(from, to time.Time) int {
	n := 0
	for _, f := range s.long {
		n += f.lostBetween(from, to)
	}
	return n
}

// lostBetween counts unanswered new-flow packets sent in [from, to) and the
// span from the first to the last of them plus one interval: the gap in
// passthrough that window saw, as the stream's resolution allows.
func (s *udpStream) lostBetween(from, to time.Time) (lost int, gap time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first, last time.Time
	for _, p := range s.fresh {
		if p.unsent || p.answered || p.sent.Before(from) || !p.sent.Before(to) {
			continue
		}
		if lost == 0 {
			first = p.sent
		}
		last = p.sent
		lost++
	}
	if lost > 0 {
		gap = last.Sub(first) + s.interval
	}
	return lost, gap
}

// totals are the stream's counts over the whole run.
type streamTotals struct {
	freshSent, freshLost int
	longSent, longLost   uint64
}

func (s *udpStream) totals() streamTotals {
	s.mu.Lock()
	defer s.mu.Unlock()
	var t streamTotals
	for _, p := range s.fresh {
		if p.unsent {
			continue
		}
		t.freshSent++
		if !p.answered {
			t.freshLost++
		}
	}
	for _, f := range s.long {
		t.longSent += f.sent.Load()
		if g := f.got.Load(); g < f.sent.Load() {
			t.longLost += f.sent.Load() - g
		}
	}
	return t
}
