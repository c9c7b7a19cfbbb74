// Package probe checks, from the router itself, whether a VPN server answers
// on each port its protocol needs: an IKEv2 IKE_SA_INIT to UDP 500 and to
// UDP 4500 (with the non-ESP marker), a TCP connection to 1723 with a PPTP
// Start-Control-Connection-Request, and an L2TPv2 SCCRQ to UDP 1701. Each
// port ends as answered (the protocol replied), refused (a TCP reset or an
// ICMP error came back) or silent (nothing came back), which tells "server
// down or blocked upstream" from "the client's settings".
//
// Every request is well formed, so a real server answers it as it would a
// client: with its own proposal, NO_PROPOSAL_CHOSEN, INVALID_KE_PAYLOAD or
// COOKIE for IKE (all "answered"), an SCCRP or StopCCN for L2TP, an SCCRP
// for PPTP. The probe never completes a session: it closes the L2TP and
// PPTP control connections it opened and leaves the server a half-open IKE
// SA, which the server drops after its usual timeout (30 s in strongSwan).
//
// Run opens every socket on the calling goroutine, so a caller that has
// entered a network namespace on a locked thread probes from there; the
// exchanges then run in parallel. UDP sockets are connected, which is how
// ICMP errors become "refused"; the flip side is that an L2TP server that
// answers from a port other than 1701 (RFC 2661 allows it) is not heard,
// as it would not be through most NATs either.
//
// strongSwan answers an IKE_SA_INIT sent straight to UDP 4500, as the lab
// test shows: a server that answers on 500 and is silent on 4500 has
// NAT-T blocked on the way (or disabled).
package probe

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"github.com/vpnpass/vpnpass/internal/sock"
	"github.com/vpnpass/vpnpass/vpn"
)

// Protocol names, as in the API.
const (
	IPsec = "ipsec"
	PPTP  = "pptp"
	L2TP  = "l2tp"
)

// Outcome says how a port responded.
type Outcome string

const (
	// Answered: the protocol replied (any valid reply, even a refusal
	// such as NO_PROPOSAL_CHOSEN or StopCCN: the server is there).
	Answered Outcome = "answered"
	// Refused: a TCP reset or an ICMP error (port, host or network
	// unreachable, administratively prohibited) came back, or this
	// router's own output path rejected the request.
	Refused Outcome = "refused"
	// Silent: nothing came back before the retries ran out.
	Silent Outcome = "silent"
)

// Result is one port's outcome; the JSON names are the API's.
type Result struct {
	_ [0]func() // not comparable: no generated equality function (binary size)

	Protocol  string  `json:"protocol"`
	Port      int     `json:"port"`
	Transport string  `json:"transport"` // "udp" or "tcp"
	Outcome   Outcome `json:"outcome"`
	// RTTMs is the time from the last request sent to the answer or the
	// error, in milliseconds; 0 when silent.
	RTTMs float64 `json:"rtt_ms"`
	// Detail says what came back, e.g. "IKE_SA_INIT response,
	// NO_PROPOSAL_CHOSEN: ..." or "ICMP port unreachable".
	Detail string `json:"detail,omitempty"`
}

// Options tune the retries. Zero values take the defaults.
type Options struct {
	// Timeout is how long the first request waits for an answer (default
	// 1 s); every retry waits twice as long as the one before.
	Timeout time.Duration
	// Retries is how many times an unanswered UDP request is sent again
	// (default 2; negative means none; at most 8). TCP leaves
	// retransmission to the kernel within the same overall budget.
	Retries int
}

const maxRetries = 8

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.Retries == 0 {
		o.Retries = 2
	}
	o.Retries = min(max(o.Retries, 0), maxRetries)
	return o
}

// budget is the longest a port is waited for: Timeout·(2^(Retries+1)−1),
// 7 s by default. The context may end it sooner.
func (o Options) budget() time.Duration {
	return o.Timeout * time.Duration(1<<(o.Retries+1)-1)
}

// ErrInvalid marks errors in Run's arguments (the API's bad_params).
var ErrInvalid = errors.New("invalid probe parameters")

type invalidError string

func (e invalidError) Error() string        { return string(e) }
func (e invalidError) Is(target error) bool { return target == ErrInvalid }

// Ports probed, in the order results are reported.
type ports struct{ ike, natt, pptp, l2tp int }

var defaultPorts = ports{ike: vpn.PortIKE, natt: vpn.PortNATT, pptp: vpn.PortPPTP, l2tp: vpn.PortL2TP}

// Run probes host for the given protocols ("ipsec", "pptp", "l2tp"; none or
// only empty strings means all) and returns one Result per port: ipsec UDP
// 500 and 4500, pptp TCP 1723, l2tp UDP 1701, in that order. It returns an
// error matching ErrInvalid for a bad host or protocol (nothing is sent)
// and no other. Run returns when every port is decided, within Options'
// budget (7 s by default, the ports in parallel) or when ctx ends
// (unfinished ports are then silent).
func Run(ctx context.Context, host netip.Addr, protocols []string, opts Options) ([]Result, error) {
	want, err := validate(host, protocols)
	if err != nil {
		return nil, err
	}
	return run(ctx, host.Unmap(), want, defaultPorts, opts.withDefaults()), nil
}

func validate(host netip.Addr, protocols []string) (map[string]bool, error) {
	h := host.Unmap()
	switch {
	case !h.IsValid():
		return nil, invalidError("host must be an IP address")
	case h.IsUnspecified(), h.IsMulticast(), h == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return nil, invalidError("host " + h.String() + " is not a unicast address")
	}
	want := map[string]bool{}
	for _, p := range protocols {
		switch p = strings.ToLower(strings.TrimSpace(p)); p {
		case "":
		case IPsec, PPTP, L2TP:
			want[p] = true
		default:
			return nil, invalidError("protocol must be one of pptp, l2tp, ipsec")
		}
	}
	if len(want) == 0 {
		for _, p := range [...]string{IPsec, PPTP, L2TP} {
			want[p] = true
		}
	}
	return want, nil
}

// run builds the requests, opens the UDP sockets here, runs their exchanges on
// goroutines and PPTP on this goroutine, and waits for all.
func run(ctx context.Context, host netip.Addr, want map[string]bool, p ports, o Options) []Result {
	var checks []udpCheck
	if want[IPsec] {
		checks = append(checks, newIKECheck(p.ike, false), newIKECheck(p.natt, true))
	}
	if want[L2TP] {
		checks = append(checks, newL2TPCheck(p.l2tp))
	}
	results := make([]Result, len(checks))
	done := make(chan struct{}, len(checks))
	for i := range checks {
		conn := dialUDP(host, &checks[i], &results[i])
		if conn == nil {
			done <- struct{}{}
			continue
		}
		go exchangeAsync(ctx, conn, &checks[i], &o, &results[i], done)
	}
	var pptp Result
	if want[PPTP] {
		runPPTP(ctx, host, p.pptp, &o, &pptp)
	}
	for range checks {
		<-done
	}
	if !want[PPTP] {
		return results
	}
	// Report order: ipsec, pptp, l2tp.
	n := 0
	if want[IPsec] {
		n = 2
	}
	return append(append(results[:n:n], pptp), results[n:]...)
}

// exchangeAsync runs one UDP exchange on its own goroutine and signals done.
// No defers (smaller code): a panic on this goroutine ends the process.
func exchangeAsync(ctx context.Context, conn *sock.Conn, c *udpCheck, o *Options, out *Result, done chan<- struct{}) {
	stop := conn.ReadsEndWith(ctx)
	exchangeUDP(ctx, conn, c, o, out)
	stop()
	conn.Close()
	done <- struct{}{}
}

func newIKECheck(port int, marker bool) udpCheck {
	var r ikeRequest
	r.ke, r.nonce = make([]byte, 32), make([]byte, nonceLen)
	randomFill(r.spi[:4], r.spi[4:], r.ke, r.nonce)
	// A u-coordinate with the top bit clear is canonical (RFC 7748 5);
	// any such 32 bytes are a valid X25519 public value for a responder.
	r.ke[31] &= 0x7F
	c := udpCheck{res: Result{Protocol: IPsec, Port: port, Transport: "udp"}}
	c.request = func(local, remote netip.AddrPort) []byte {
		b := encodeIKE(r, local, remote)
		if marker {
			b = append(make([]byte, 4), b...) // non-ESP marker (RFC 3948 2.2)
		}
		return b
	}
	c.match = func(b []byte) (string, []byte, bool) {
		if marker && len(b) >= 4 && be.Uint32(b) == 0 {
			b = b[4:]
		}
		reply, err := decodeIKE(b, r.spi)
		if err != nil {
			return "", nil, false
		}
		return reply.describe(), nil, true
	}
	return c
}

func newL2TPCheck(port int) udpCheck {
	var id [2]byte
	randomFill(id[:])
	tunnel := be.Uint16(id[:])
	c := udpCheck{res: Result{Protocol: L2TP, Port: port, Transport: "udp"}}
	c.request = func(netip.AddrPort, netip.AddrPort) []byte { return encodeSCCRQ(tunnel) }
	c.match = func(b []byte) (string, []byte, bool) {
		reply, err := decodeL2TP(b, tunnel)
		if err != nil {
			return "", nil, false
		}
		var bye []byte
		if reply.msgType == msgSCCRP && reply.tunnelID != 0 {
			bye = encodeStopCCN(tunnel, reply.tunnelID)
		}
		return reply.describe(), bye, true
	}
	return c
}

// randomFill fills each buffer with random bytes, none of them all zero
// (a zero SPI or tunnel ID is invalid, and an SPI starting with four zero
// bytes would look like the non-ESP marker). math/rand/v2's generator is
// ChaCha8 seeded by the runtime from the OS: unguessable to an off-path
// spoofer, without the ~190 KiB crypto/rand's FIPS DRBG adds on mips (as
// agent/wan/stun does). Nothing here is a secret: the probe never
// completes a key exchange.
func randomFill(bufs ...[]byte) {
	for _, b := range bufs {
		for zero := true; zero; zero = strings.Trim(string(b), "\x00") == "" {
			for i := 0; i < len(b); i += 8 {
				var w [8]byte
				be.PutUint64(w[:], rand.Uint64())
				copy(b[i:], w[:])
			}
		}
	}
}

func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
