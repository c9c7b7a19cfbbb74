package e2e

import (
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
)

// streamResult counts the probes of a stream of new flows.
type streamResult struct {
	sent, lost int
	// gaps are the runs of consecutive lost probes, as the time from the
	// first lost probe's send to the first answered one after it.
	gaps []time.Duration
}

func (r streamResult) longest() time.Duration {
	var m time.Duration
	for _, g := range r.gaps {
		m = max(m, g)
	}
	return m
}

type probeOut struct {
	at time.Time
	ok bool
}

// newFlowStream sends, every interval until stop closes, one UDP probe to
// each port of the server from a fresh socket of the LAN host: each probe is
// a NEW conntrack entry, so it meets the forward rules (an established flow
// is accepted by fw4's `ct state established` whatever our rules do). A
// probe counts as passed when its echo arrives within a second.
func newFlowStream(t *testing.T, l *lab.Lab, ports []uint16, interval time.Duration, stop <-chan struct{}) streamResult {
	t.Helper()
	var mu sync.Mutex
	var outs []probeOut
	var wg sync.WaitGroup
	err := l.LAN.Do(func() error {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return nil
			case <-tick.C:
			}
			for _, p := range ports {
				c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: lab.LANHost.AsSlice()})
				if err != nil {
					return err
				}
				at := time.Now()
				if _, err := c.WriteToUDPAddrPort([]byte("ike?"), netip.AddrPortFrom(lab.Server, p)); err != nil {
					c.Close()
					return err
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer c.Close()
					_ = c.SetReadDeadline(time.Now().Add(time.Second))
					_, _, err := c.ReadFromUDPAddrPort(make([]byte, 64))
					mu.Lock()
					outs = append(outs, probeOut{at: at, ok: err == nil})
					mu.Unlock()
				}()
			}
		}
	})
	wg.Wait()
	if err != nil {
		t.Fatalf("flow stream: %v", err)
	}
	return summarize(outs)
}

// summarize orders the probes by send time and measures the runs of losses.
func summarize(outs []probeOut) streamResult {
	sortProbes(outs)
	r := streamResult{sent: len(outs)}
	var gapStart time.Time
	for _, o := range outs {
		switch {
		case !o.ok:
			r.lost++
			if gapStart.IsZero() {
				gapStart = o.at
			}
		case !gapStart.IsZero():
			r.gaps = append(r.gaps, o.at.Sub(gapStart))
			gapStart = time.Time{}
		}
	}
	if !gapStart.IsZero() {
		r.gaps = append(r.gaps, outs[len(outs)-1].at.Sub(gapStart))
	}
	return r
}

func sortProbes(outs []probeOut) {
	slices.SortFunc(outs, func(a, b probeOut) int { return a.at.Compare(b.at) })
}
