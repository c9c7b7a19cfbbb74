package stun

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"time"

	"github.com/vpnpass/vpnpass/agent/wan/netx"
	"github.com/vpnpass/vpnpass/internal/errx"
	"github.com/vpnpass/vpnpass/internal/sock"
)

// DefaultPort is the STUN port used when the server string has none.
const DefaultPort = "3478"

// Options tune a query. Zero values take the defaults.
type Options struct {
	// Timeout bounds the whole query (default 3 s). The context may end it sooner.
	Timeout time.Duration
	// RTO is the first retransmission interval, doubled after each send
	// (RFC 5389 7.2.1; default 500 ms).
	RTO time.Duration
	// Attempts is how many requests are sent at most (default 3).
	Attempts int
	// Fingerprint adds a FINGERPRINT attribute to the request.
	Fingerprint bool
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	if o.RTO <= 0 {
		o.RTO = 500 * time.Millisecond
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	return o
}

// Result is a successful Binding exchange.
type Result struct {
	Server netip.AddrPort // the address the request went to
	Local  netip.AddrPort // the local address it left from
	Mapped netip.AddrPort // the address the server saw it coming from
	RTT    time.Duration
}

// Query sends a Binding request over UDP/IPv4 to server ("host" or
// "host:port") and returns the mapped address. Answers that do not decode
// (wrong transaction ID, truncated, not STUN) are ignored while waiting; if
// nothing valid arrives the error says what was seen instead.
func Query(ctx context.Context, server string, opt Options) (res Result, err error) {
	opt = opt.withDefaults()
	if _, _, ok := sock.SplitHostPort(server); !ok {
		server = sock.JoinHostPort(server, DefaultPort)
	}
	host, port, _ := sock.SplitHostPort(server)
	if host == "" {
		return res, fmt.Errorf("stun: server %q has no host", server)
	}
	// No defers (smaller code): the agent queries only on wan.RunProbes'
	// goroutines, where a panic ends the process.
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	c, err := dial(ctx, host, port)
	if err != nil {
		err = fmt.Errorf("stun: dial %s: %w", server, err)
	} else {
		// Unblock a pending read when the context ends early.
		stop := c.ReadsEndWith(ctx)
		if err = exchange(ctx, c, &opt, &res); err != nil {
			err = fmt.Errorf("stun: %s: %w", server, err)
		}
		stop()
		c.Close()
	}
	cancel()
	return res, err
}

// dial resolves host (an IPv4 literal, a hosts entry or a DNS name) with
// netx rather than net.Dialer, whose string addresses link Go's resolver
// (~210 KiB on mips), and connects a UDP socket to it.
func dial(ctx context.Context, host, port string) (*sock.Conn, error) {
	pn, err := strconv.ParseUint(port, 10, 16)
	if err != nil || pn == 0 {
		return nil, fmt.Errorf("bad port %q", port)
	}
	ip, err := netx.LookupIPv4(ctx, host)
	if err != nil {
		return nil, err
	}
	return sock.DialUDP(netip.AddrPortFrom(ip, uint16(pn)))
}

// exchange runs the retransmission loop on a connected UDP socket; res is
// set only on success.
func exchange(ctx context.Context, c *sock.Conn, opt *Options, res *Result) error {
	id := newTxID()
	req := BindingRequest(id, opt.Fingerprint)
	buf := make([]byte, 1500)
	rto := opt.RTO
	var ignored error
	start := time.Now()
	for attempt := 0; attempt < opt.Attempts; attempt++ {
		if _, err := c.Write(req); err != nil {
			return fmt.Errorf("send: %w", err)
		}
		wait := time.Now().Add(rto)
		if attempt == opt.Attempts-1 {
			wait = time.Now().Add(opt.Timeout) // the context bounds the last wait
		}
		for {
			if ctx.Err() != nil {
				return timeoutError(ctx, ignored)
			}
			_ = c.SetReadDeadline(wait)
			n, err := c.Read(buf)
			if err != nil {
				if sock.IsTimeout(err) {
					break // retransmit
				}
				// ICMP port unreachable surfaces here as "connection refused".
				return fmt.Errorf("receive: %w", err)
			}
			mapped, err := Decode(buf[:n], id)
			if _, ok := errx.As[*ErrorResponse](err); ok {
				return err
			}
			if err != nil {
				ignored = err
				continue
			}
			res.Server, res.Local, res.Mapped, res.RTT = c.RemoteAddr(), c.LocalAddr(), mapped, time.Since(start)
			return nil
		}
		rto *= 2
	}
	return timeoutError(ctx, ignored)
}

// newTxID draws a transaction ID from math/rand/v2, whose generator is
// ChaCha8 seeded by the runtime from the OS: unguessable to an off-path
// spoofer, which is all RFC 5389 asks of it, without the ~100 KiB that
// crypto/rand's FIPS DRBG would add to the router binary.
func newTxID() TxID {
	var id TxID
	binary.BigEndian.PutUint64(id[0:8], rand.Uint64())
	binary.BigEndian.PutUint32(id[8:12], rand.Uint32())
	return id
}

// TimeoutError means no valid answer arrived in time.
type TimeoutError struct {
	// Ignored is the last invalid answer seen, nil if the server was silent.
	Ignored error
}

func (e *TimeoutError) Error() string {
	if e.Ignored != nil {
		return "no valid answer in time; ignored an answer: " + e.Ignored.Error()
	}
	return "no answer in time"
}

func (e *TimeoutError) Unwrap() error { return e.Ignored }

// Timeout reports true so callers can treat it like a net.Error timeout.
func (e *TimeoutError) Timeout() bool { return true }

// timeoutError reports a cancelled caller as such, anything else as a timeout.
func timeoutError(ctx context.Context, ignored error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	return &TimeoutError{Ignored: ignored}
}
