// Package natpmp asks a gateway for its external IPv4 address with NAT-PMP
// (RFC 6886). Only the external address request is implemented: vpnpass
// wants to know whether the box upstream does NAT and under which address,
// never to open ports.
package natpmp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/vpnpass/vpnpass/internal/errx"
	"github.com/vpnpass/vpnpass/internal/sock"
)

// Port is the NAT-PMP server port on the gateway.
const Port = 5351

const (
	opExternalAddress = 0
	opReply           = 128
	replyLen          = 12
)

// Options tune a request. Zero values take the defaults.
type Options struct {
	// Timeout bounds the whole request (default 2 s). RFC 6886 retries for
	// up to 64 s; a diagnostic tool must answer sooner.
	Timeout time.Duration
	// RTO is the first retransmission interval, doubled after each send
	// (RFC 6886 3.1: 250 ms).
	RTO time.Duration
}

// Result is the gateway's answer.
type Result struct {
	Gateway  netip.Addr
	External netip.Addr
	// Epoch is the seconds since the gateway's mapping table was reset.
	Epoch uint32
}

// resultNames by result code (RFC 6886 3.5).
var resultNames = [...]string{1: "unsupported version", 2: "not authorized or refused",
	3: "network failure (the gateway has no external address)", 4: "out of resources",
	5: "unsupported opcode"}

// ResultError is a non-zero result code from the gateway.
type ResultError struct{ Code uint16 }

func (e *ResultError) Error() string {
	s := "NAT-PMP result " + strconv.Itoa(int(e.Code))
	if int(e.Code) < len(resultNames) && resultNames[e.Code] != "" {
		s += ": " + resultNames[e.Code]
	}
	return s
}

// ErrTimeout means the gateway did not answer in time (most routers have no
// NAT-PMP server; that is not a fault).
var ErrTimeout = errors.New("no NAT-PMP answer in time")

// ExternalAddress asks gateway for its external IPv4 address.
func ExternalAddress(ctx context.Context, gateway netip.Addr, opt Options) (res Result, err error) {
	if opt.Timeout <= 0 {
		opt.Timeout = 2 * time.Second
	}
	if opt.RTO <= 0 {
		opt.RTO = 250 * time.Millisecond
	}
	if !gateway.Is4() {
		return res, fmt.Errorf("natpmp: gateway %v is not an IPv4 address", gateway)
	}
	// A connected socket only receives from the gateway's address and port,
	// which RFC 6886 3.1 requires the client to check anyway.
	c, err := sock.DialUDP(netip.AddrPortFrom(gateway, Port))
	if err != nil {
		return res, fmt.Errorf("natpmp: dial %v: %w", gateway, err)
	}
	// No defers (smaller code): the agent asks only on wan.RunProbes'
	// goroutines, where a panic ends the process.
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	stop := c.ReadsEndWith(ctx)
	err = exchange(ctx, c, opt.RTO, &res)
	stop()
	c.Close()
	cancel()
	if err != nil {
		return Result{}, fmt.Errorf("natpmp: %v: %w", gateway, err)
	}
	res.Gateway = gateway
	return res, nil
}

// exchange asks until an answer decodes into res (or is a result error).
func exchange(ctx context.Context, c *sock.Conn, rto time.Duration, res *Result) error {
	req := []byte{0, opExternalAddress}
	buf := make([]byte, 64)
	var ignored error
	for {
		if _, err := c.Write(req); err != nil {
			return fmt.Errorf("send: %w", err)
		}
		wait := time.Now().Add(rto)
		if dl, ok := ctx.Deadline(); ok && dl.Before(wait) {
			wait = dl
		}
		for {
			if err := ctx.Err(); err != nil {
				if errors.Is(err, context.Canceled) {
					return err
				}
				if ignored != nil {
					return fmt.Errorf("%w (ignored an answer: %v)", ErrTimeout, ignored)
				}
				return ErrTimeout
			}
			_ = c.SetReadDeadline(wait)
			n, err := c.Read(buf)
			if err != nil {
				if sock.IsTimeout(err) {
					break
				}
				return fmt.Errorf("receive: %w", err)
			}
			err = decode(res, buf[:n])
			if _, isResult := errx.As[*ResultError](err); err == nil || isResult {
				return err
			}
			ignored = err
		}
		rto *= 2
	}
}

// Decode parses an external address response (RFC 6886 3.2).
func Decode(b []byte) (res Result, err error) {
	err = decode(&res, b)
	return res, err
}

// decode is Decode into res, which it leaves alone when the answer is not
// one (a result error still sets the epoch).
func decode(res *Result, b []byte) error {
	if len(b) < replyLen {
		return fmt.Errorf("answer of %d bytes, want %d", len(b), replyLen)
	}
	if b[0] != 0 {
		return fmt.Errorf("answer has version %d, want 0 (a PCP-only server?)", b[0])
	}
	if b[1] != opReply+opExternalAddress {
		return fmt.Errorf("answer has opcode %d, want %d", b[1], opReply+opExternalAddress)
	}
	res.Epoch = binary.BigEndian.Uint32(b[4:8])
	if code := binary.BigEndian.Uint16(b[2:4]); code != 0 {
		return &ResultError{Code: code}
	}
	res.External = netip.AddrFrom4([4]byte(b[8:12]))
	return nil
}
