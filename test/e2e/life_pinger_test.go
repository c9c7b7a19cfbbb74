package e2e

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"

	"github.com/vpnpass/vpnpass/test/lab"
)

// pinger sends an ICMP echo every interval from a lab node and counts the
// replies: a continuous ping whose losses can be attributed to what
// happened while the lost requests were in flight. Each request carries a
// 64-bit number (ICMP's 16-bit seq would wrap within a soak).
type pinger struct {
	conn *icmp.PacketConn
	dst  netip.Addr
	id   int
	mu   sync.Mutex
	next uint64          // number of the next request
	got  map[uint64]bool // replies received
	stop chan struct{}
	wg   sync.WaitGroup
}

func startPinger(t testing.TB, from *lab.Node, dst netip.Addr, interval time.Duration) *pinger {
	t.Helper()
	p := &pinger{dst: dst, id: os.Getpid() & 0xffff, got: map[uint64]bool{}, stop: make(chan struct{})}
	if err := from.Do(func() (err error) { p.conn, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0"); return }); err != nil {
		t.Fatal(err)
	}
	p.wg.Add(2)
	go p.send(interval)
	go p.receive()
	t.Cleanup(p.close)
	return p
}

func (p *pinger) send(interval time.Duration) {
	defer p.wg.Done()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		p.mu.Lock()
		n := p.next
		p.next++
		p.mu.Unlock()
		data := binary.BigEndian.AppendUint64([]byte("vpnpass-life"), n)
		msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: p.id, Seq: int(n & 0xffff), Data: data}}
		b, _ := msg.Marshal(nil)
		_, _ = p.conn.WriteTo(b, &net.IPAddr{IP: p.dst.AsSlice()})
	}
}

func (p *pinger) receive() {
	defer p.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, peer, err := p.conn.ReadFrom(buf)
		if err != nil {
			return // closed
		}
		m, err := icmp.ParseMessage(1, buf[:n])
		if err != nil || m.Type != ipv4.ICMPTypeEchoReply || peer.String() != p.dst.String() {
			continue
		}
		e, ok := m.Body.(*icmp.Echo)
		if !ok || e.ID != p.id || len(e.Data) != 20 || string(e.Data[:12]) != "vpnpass-life" {
			continue
		}
		p.mu.Lock()
		p.got[binary.BigEndian.Uint64(e.Data[12:])] = true
		p.mu.Unlock()
	}
}

// mark is the number of the next request: a phase runs from one mark to
// the next.
func (p *pinger) mark() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next
}

// lost counts the requests in [from, to) without a reply. Call it at least
// a round trip after the phase ended.
func (p *pinger) lost(from, to uint64) (lost, sent int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for n := from; n < to; n++ {
		if !p.got[n] {
			lost++
		}
	}
	return lost, int(to - from)
}

func (p *pinger) close() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	p.conn.Close()
	p.wg.Wait()
}
