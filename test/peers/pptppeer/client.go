package pptppeer

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Client is a PPTP client (PAC side) with its control connection and GRE socket.
type Client struct {
	CallID       uint16 // our call ID, announced in the Outgoing-Call-Request
	ServerCallID uint16 // learnt from the Outgoing-Call-Reply
	server       netip.Addr
	ctl          net.Conn
	gre          *net.IPConn
}

// Dial opens the control connection and the GRE socket in the calling
// thread's netns. local is the client's own address.
func Dial(local, server netip.Addr, callID uint16, timeout time.Duration) (*Client, error) {
	d := net.Dialer{Timeout: timeout}
	ctl, err := d.Dial("tcp4", netip.AddrPortFrom(server, 1723).String())
	if err != nil {
		return nil, fmt.Errorf("pptp client: connect: %w", err)
	}
	gre, err := net.ListenIP("ip4:47", &net.IPAddr{IP: local.AsSlice()})
	if err != nil {
		ctl.Close()
		return nil, fmt.Errorf("pptp client: open GRE socket: %w", err)
	}
	return &Client{CallID: callID, server: server, ctl: ctl, gre: gre}, nil
}

// Close ends the call.
func (c *Client) Close() {
	c.ctl.Close()
	c.gre.Close()
}

// Handshake runs Start-Control-Connection and Outgoing-Call.
func (c *Client) Handshake(timeout time.Duration) error {
	_ = c.ctl.SetDeadline(deadline(timeout))
	if _, err := c.ctl.Write(sccr(typeSCCRQ)); err != nil {
		return fmt.Errorf("pptp client: send SCCRQ: %w", err)
	}
	if t, _, err := readControl(c.ctl); err != nil || t != typeSCCRP {
		return fmt.Errorf("pptp client: want SCCRP, got type %d: %v", t, err)
	}
	if _, err := c.ctl.Write(ocrq(c.CallID, 1)); err != nil {
		return fmt.Errorf("pptp client: send OCRQ: %w", err)
	}
	t, body, err := readControl(c.ctl)
	if err != nil || t != typeOCRP || len(body) < 4 {
		return fmt.Errorf("pptp client: want OCRP, got type %d: %v", t, err)
	}
	c.ServerCallID = uint16(body[0])<<8 | uint16(body[1])
	if peer := uint16(body[2])<<8 | uint16(body[3]); peer != c.CallID {
		return fmt.Errorf("pptp client: OCRP names peer call ID %#x, want ours %#x (NAT helper did not translate back)", peer, c.CallID)
	}
	return nil
}

// ExchangeGRE sends n GRE packets to the server and counts the echoes that
// come back keyed with our call ID within timeout.
func (c *Client) ExchangeGRE(n int, timeout time.Duration) (int, error) {
	if c.ServerCallID == 0 {
		return 0, errors.New("pptp client: no call: run Handshake first")
	}
	dst := &net.IPAddr{IP: c.server.AsSlice()}
	for i := 0; i < n; i++ {
		if _, err := c.gre.WriteTo(GRE(c.ServerCallID, uint32(i+1), []byte("ppp-frame")), dst); err != nil {
			return 0, fmt.Errorf("pptp client: send GRE: %w", err)
		}
	}
	got := 0
	buf := make([]byte, 2048)
	_ = c.gre.SetReadDeadline(deadline(timeout))
	for got < n {
		m, from, err := c.gre.ReadFrom(buf)
		if err != nil {
			break // deadline: report what arrived
		}
		key, _, err := ParseGRE(buf[:m])
		if err == nil && key == c.CallID && from.(*net.IPAddr).IP.Equal(c.server.AsSlice()) {
			got++
		}
	}
	return got, nil
}
