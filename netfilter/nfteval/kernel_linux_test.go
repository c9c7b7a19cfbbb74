package nfteval

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/test/lab"
)

// probeWait is how long a probe waits before calling a packet dropped.
const probeWait = time.Second

// TestAgreesWithKernel sends real LAN→server traffic through lab routers
// running fw4, locked-down fw4, a distribution's drop-forward nftables and
// no firewall, and checks that the verdict we evaluate from the router's
// ruleset is what the kernel does: delivered (accept), refused by ICMP or a
// TCP reset (reject), or silently lost (drop).
func TestAgreesWithKernel(t *testing.T) {
	for _, fw := range []lab.Firewall{lab.FW4, lab.FW4Locked, lab.NftablesDrop, lab.FirewallNone} {
		t.Run(string(fw), func(t *testing.T) {
			cfg := lab.Config{Topology: lab.Single}
			if fw != lab.FirewallNone {
				cfg.Firewalls = []lab.Firewall{fw}
			}
			l := lab.New(t, cfg)
			rs, err := Read(l.Router.Fd())
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				l4   uint8
				port uint16
			}{{vpn.ProtoUDP, 500}, {vpn.ProtoTCP, 1723}} {
				p := netfilter.Packet{Family: vpn.IPv4, L4: c.l4, DstPort: c.port, Src: lab.LANHost,
					Dst: lab.Server, InIf: lab.LANDevice, OutIf: l.WANDevice, CtState: "new"}
				e := forward(t, rs, p)
				got, err := probe(l, c.l4, c.port)
				if err != nil {
					t.Fatalf("probe %d/%d: %v", c.l4, c.port, err)
				}
				t.Logf("%d/%d: evaluated %s, kernel %s", c.l4, c.port, e.Verdict, got)
				if e.Verdict != got {
					t.Errorf("%s %d/%d: evaluated %s, kernel did %s\n%s", fw, c.l4, c.port, e.Verdict, got, pathText(e))
				}
			}
		})
	}
}

// probe sends one UDP datagram or TCP SYN from the LAN host to the server
// and says what became of it.
func probe(l *lab.Lab, l4 uint8, port uint16) (netfilter.Verdict, error) {
	addr := netip.AddrPortFrom(lab.Server, port).String()
	network := "udp"
	if l4 == vpn.ProtoTCP {
		network = "tcp"
	}
	delivered := make(chan bool, 1)
	var closeListener func()
	err := l.Inet.Do(func() error {
		var err error
		closeListener, err = listen(network, addr, delivered)
		return err
	})
	if err != nil {
		return "", err
	}
	defer closeListener()
	var refused bool
	err = l.LAN.Do(func() error {
		var err error
		refused, err = send(network, addr)
		return err
	})
	if err != nil {
		return "", err
	}
	select {
	case <-delivered:
		return netfilter.Accept, nil
	case <-time.After(probeWait / 2):
	}
	if refused {
		return netfilter.Reject, nil
	}
	return netfilter.Drop, nil
}

// listen reports on delivered the first datagram or connection at addr.
func listen(network, addr string, delivered chan<- bool) (func(), error) {
	if network == "udp" {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, err
		}
		go func() {
			if _, _, err := pc.ReadFrom(make([]byte, 64)); err == nil {
				delivered <- true
			}
		}()
		return func() { pc.Close() }, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	go func() {
		if c, err := ln.Accept(); err == nil {
			delivered <- true
			c.Close()
		}
	}()
	return func() { ln.Close() }, nil
}

// send reports whether the router refused the packet (ICMP unreachable for
// UDP, a reset for TCP); a timeout is not an error.
func send(network, addr string) (refused bool, err error) {
	if network == "tcp" {
		c, err := net.DialTimeout("tcp", addr, probeWait)
		if err == nil {
			c.Close()
			return false, nil
		}
		return isRefused(err), timeoutOK(err)
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		return false, err
	}
	defer c.Close()
	if _, err := c.Write([]byte("probe " + strconv.Itoa(os.Getpid()))); err != nil {
		return false, err
	}
	_ = c.SetReadDeadline(time.Now().Add(probeWait))
	_, err = c.Read(make([]byte, 64))
	return isRefused(err), timeoutOK(err)
}

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// timeoutOK passes timeouts and refusals (outcomes), other errors through.
func timeoutOK(err error) error {
	var ne net.Error
	if err == nil || isRefused(err) || errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	return err
}
