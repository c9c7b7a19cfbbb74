package pptppeer

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Server answers PPTP calls on TCP 1723 and echoes their GRE.
type Server struct {
	CallID uint16 // the server's call ID, sent in every Outgoing-Call-Reply
	ln     net.Listener
	gre    *net.IPConn

	mu    sync.Mutex
	peers map[netip.Addr]uint16 // peer address → its call ID as seen here (after NAT)

	// GREIn counts GRE packets received for our call; GREOut replies sent.
	GREIn, GREOut atomic.Int64
	wg            sync.WaitGroup
}

// Listen opens the server's sockets on addr in the calling thread's netns.
func Listen(addr netip.Addr) (*Server, error) {
	ln, err := net.Listen("tcp4", netip.AddrPortFrom(addr, 1723).String())
	if err != nil {
		return nil, fmt.Errorf("pptp server: listen tcp: %w", err)
	}
	gre, err := net.ListenIP("ip4:47", &net.IPAddr{IP: addr.AsSlice()})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("pptp server: open GRE socket: %w", err)
	}
	s := &Server{CallID: 0x4242, ln: ln, gre: gre, peers: map[netip.Addr]uint16{}}
	s.wg.Add(2)
	go s.acceptLoop()
	go s.greLoop()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() {
	s.ln.Close()
	s.gre.Close()
	s.wg.Wait()
}

// PeerCallID returns the call ID a peer announced, as the server saw it.
func (s *Server) PeerCallID(peer netip.Addr) (uint16, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.peers[peer]
	return id, ok
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.control(c)
	}
}

// control runs one control connection: SCCRQ → SCCRP, OCRQ → OCRP.
func (s *Server) control(c net.Conn) {
	defer c.Close()
	peer := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
	for {
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		t, body, err := readControl(c)
		if err != nil {
			return
		}
		switch t {
		case typeSCCRQ:
			_, err = c.Write(sccr(typeSCCRP))
		case typeOCRQ:
			if len(body) < 2 {
				return
			}
			id := uint16(body[0])<<8 | uint16(body[1])
			s.mu.Lock()
			s.peers[peer] = id
			s.mu.Unlock()
			_, err = c.Write(ocrp(s.CallID, id))
		}
		if err != nil {
			return
		}
	}
}

// greLoop echoes GRE of our call back to the peer, keyed with its call ID.
func (s *Server) greLoop() {
	defer s.wg.Done()
	buf := make([]byte, 2048)
	var seq uint32
	for {
		n, from, err := s.gre.ReadFrom(buf)
		if err != nil {
			return
		}
		key, payload, err := ParseGRE(buf[:n])
		if err != nil || key != s.CallID {
			continue
		}
		s.GREIn.Add(1)
		src, _ := netip.AddrFromSlice(from.(*net.IPAddr).IP)
		peerID, ok := s.PeerCallID(src.Unmap())
		if !ok {
			continue
		}
		seq++
		if _, err := s.gre.WriteTo(GRE(peerID, seq, append([]byte("echo:"), payload...)), from); err == nil {
			s.GREOut.Add(1)
		}
	}
}
