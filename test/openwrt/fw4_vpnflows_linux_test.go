package openwrt

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/test/peers/esppeer"
	"github.com/vpnpass/vpnpass/test/peers/pptppeer"
)

// vpnSessions keeps a raw ESP flow and a PPTP call (TCP 1723 control and
// GRE) alive from the LAN host while the firewall is reloaded: one packet
// each every tick, answered by the peers in inet.
type vpnSessions struct {
	esp      *net.IPConn
	pptp     *pptppeer.Client
	stop     chan struct{}
	done     chan struct{}
	espSent  atomic.Int64
	espGot   atomic.Int64
	greSent  atomic.Int64
	greGot   atomic.Int64
	greError atomic.Value
}

// startVPNSessions needs pptp allowed (the helper must see the call) and
// ipsec allowed (ESP is a new flow through a reject policy otherwise).
func startVPNSessions(t *testing.T, l *lab.Lab) *vpnSessions {
	t.Helper()
	esppeer.Serve(t, l.Inet, lab.Server)
	var srv *pptppeer.Server
	if err := l.Inet.Do(func() (err error) { srv, err = pptppeer.Listen(lab.Server); return }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)

	s := &vpnSessions{esp: esppeer.Open(t, l.LAN, lab.LANHost), stop: make(chan struct{}), done: make(chan struct{})}
	if got := esppeer.Send(t, s.esp, lab.Server, 0x1001, 1, time.Second); got != 1 {
		t.Fatalf("ESP is not answered before the test starts (%d of 1)", got)
	}
	if err := l.LAN.Do(func() (err error) {
		s.pptp, err = pptppeer.Dial(lab.LANHost, lab.Server, 0x4321, time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.pptp.Close)
	if err := s.pptp.Handshake(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if got, err := s.pptp.ExchangeGRE(1, time.Second); err != nil || got != 1 {
		t.Fatalf("PPTP GRE is not answered before the test starts (%d of 1, %v)", got, err)
	}
	go s.run(20 * time.Millisecond)
	return s
}

func (s *vpnSessions) run(every time.Duration) {
	defer close(s.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	buf := make([]byte, 2048)
	for seq := uint32(2); ; seq++ {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
		if _, err := s.esp.WriteToIP(esppeer.Packet(0x1001, seq), &net.IPAddr{IP: lab.Server.AsSlice()}); err == nil {
			s.espSent.Add(1)
			_ = s.esp.SetReadDeadline(time.Now().Add(every / 2))
			if m, _, err := s.esp.ReadFromIP(buf); err == nil && m >= 8 {
				s.espGot.Add(1)
			}
		}
		s.greSent.Add(1)
		got, err := s.pptp.ExchangeGRE(1, every/2)
		if err != nil {
			s.greError.Store(err)
		}
		s.greGot.Add(int64(got))
	}
}

func (s *vpnSessions) Stop() {
	close(s.stop)
	<-s.done
}
