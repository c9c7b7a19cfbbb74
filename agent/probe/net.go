package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/vpnpass/vpnpass/internal/sock"
)

// udpCheck is one UDP port's exchange: request builds the datagram once the
// socket's addresses are known; match recognises an answer, describes it
// and may return a datagram to send back (closing what the server opened).
type udpCheck struct {
	res     Result
	request func(local, remote netip.AddrPort) []byte
	match   func(b []byte) (detail string, bye []byte, ok bool)
}

// dialUDP opens a connected UDP socket (on the calling thread). A failure
// to connect is itself an outcome, e.g. no route: refused; it is written to
// res and the socket is nil.
func dialUDP(host netip.Addr, c *udpCheck, res *Result) *sock.Conn {
	conn, err := sock.DialUDP(netip.AddrPortFrom(host, uint16(c.res.Port)))
	if err != nil {
		*res = c.res
		res.Outcome, res.Detail = classify(err, "udp")
	}
	return conn
}

// exchangeUDP sends the request, waits Timeout, resends with a doubled wait
// up to Retries times, and returns at the first answer or ICMP error.
// Datagrams that are not an answer (stray, wrong SPI) are ignored. The
// outcome is written to res. The caller ends conn's reads with ctx.
func exchangeUDP(ctx context.Context, conn *sock.Conn, c *udpCheck, o *Options, res *Result) {
	*res = c.res
	req := c.request(conn.LocalAddr(), conn.RemoteAddr())
	buf := make([]byte, 2048)
	wait, ignored, sent := o.Timeout, 0, 0
	for attempt := 0; attempt <= o.Retries; attempt++ {
		start := time.Now()
		if _, err := conn.Write(req); err != nil {
			res.Outcome, res.Detail = classify(err, "udp")
			res.RTTMs = ms(time.Since(start))
			return
		}
		sent++
		_ = conn.SetReadDeadline(start.Add(wait))
		if ctx.Err() != nil {
			break
		}
		for {
			n, err := conn.Read(buf)
			if isTimeout(err) {
				break
			}
			if err != nil {
				res.Outcome, res.Detail = classify(err, "udp")
				res.RTTMs = ms(time.Since(start))
				return
			}
			detail, bye, ok := c.match(buf[:n])
			if !ok {
				ignored++
				continue
			}
			res.RTTMs = ms(time.Since(start))
			res.Outcome, res.Detail = Answered, detail
			if bye != nil {
				_, _ = conn.Write(bye)
			}
			return
		}
		if ctx.Err() != nil {
			break
		}
		wait *= 2
	}
	res.Outcome, res.Detail = Silent, silentDetail(ctx, sent, ignored)
}

func silentDetail(ctx context.Context, sent, ignored int) string {
	s := "no reply to " + strconv.Itoa(sent) + " requests"
	if sent == 1 {
		s = "no reply to 1 request"
	}
	if ignored > 0 {
		s += " (" + strconv.Itoa(ignored) + " unrelated datagrams ignored)"
	}
	if ctx.Err() != nil {
		s += "; probe cut short: " + ctx.Err().Error()
	}
	return s
}

// runPPTP connects to TCP port and runs Start-Control-Connection. The
// socket is created on the calling goroutine (its thread's namespace). The
// outcome is written to res. One deferred cleanup (the API server's
// recover can catch a panic here) instead of three: smaller code.
func runPPTP(ctx context.Context, host netip.Addr, port int, o *Options, res *Result) {
	res.Protocol, res.Port, res.Transport = PPTP, port, "tcp"
	var run pptpRun
	ctx, run.cancel = context.WithTimeout(ctx, o.budget())
	defer run.end()
	start := time.Now()
	conn, err := sock.DialTCP(ctx, netip.AddrPortFrom(host, uint16(port)))
	if err != nil {
		if isTimeout(err) || ctx.Err() != nil {
			res.Outcome, res.Detail = Silent, "no answer to the TCP connection request (SYN)"
			return
		}
		res.Outcome, res.Detail = classify(err, "tcp")
		res.RTTMs = ms(time.Since(start))
		return
	}
	run.conn, run.stop = conn, conn.CallsEndWith(ctx)
	handshake := ms(time.Since(start))
	start = time.Now()
	if _, err = conn.Write(encodePPTPSCCRQ()); err == nil {
		var reply pptpReply
		if reply, err = readPPTP(conn); err == nil {
			res.Outcome, res.Detail, res.RTTMs = Answered, reply.describe(), ms(time.Since(start))
			_ = conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			_, _ = conn.Write(encodeStopCCRQ())
			return
		}
	}
	connected := fmt.Sprintf("TCP connected in %.2f ms, then ", handshake)
	switch {
	case isTimeout(err) || ctx.Err() != nil:
		res.Outcome, res.Detail = Silent, connected+"no reply to Start-Control-Connection-Request"
	case errors.Is(err, errNotPPTP):
		res.Outcome, res.Detail = Refused, connected+"a reply that is not PPTP: another service listens on the port"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		res.Outcome, res.Detail = Refused, connected+"the server closed the connection without a PPTP reply"
	default:
		res.Outcome, res.Detail = classify(err, "tcp")
		res.Detail = connected + res.Detail
	}
	if res.Outcome != Silent {
		res.RTTMs = ms(time.Since(start))
	}
}

// pptpRun is what runPPTP releases on the way out, in the order three
// defers would: the context's hook, the connection, the context.
type pptpRun struct {
	cancel context.CancelFunc
	conn   *sock.Conn
	stop   func() bool
}

func (r *pptpRun) end() {
	if r.conn != nil {
		r.stop()
		r.conn.Close()
	}
	r.cancel()
}

func isTimeout(err error) bool {
	return err != nil && (errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded))
}

// classify turns a socket error into an outcome and words. ICMP errors
// reach a connected socket as these errnos (Linux icmp_err_convert).
func classify(err error, transport string) (Outcome, string) {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED) && transport == "tcp":
		return Refused, "TCP reset: nothing listens on the port, or a firewall rejects it"
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused, "ICMP port unreachable: nothing listens on the port, or a firewall rejects it"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return Refused, "host unreachable (ICMP host unreachable or administratively prohibited)"
	case errors.Is(err, syscall.ENETUNREACH):
		return Refused, "network unreachable: no route from this router, or ICMP network unreachable"
	case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES):
		return Refused, "this router's own firewall (output) rejects the request"
	}
	return Silent, "error: " + err.Error()
}
