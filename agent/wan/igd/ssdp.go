package igd

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vpnpass/vpnpass/internal/sock"
)

// SSDP search targets for Internet Gateway Devices, version 1 first: a v2
// device answers a v1 search too, and v1-only devices are still common.
var searchTargets = []string{
	"urn:schemas-upnp-org:device:InternetGatewayDevice:1",
	"urn:schemas-upnp-org:device:InternetGatewayDevice:2",
}

// ssdpGroup is the SSDP multicast address and port.
var ssdpGroup = netip.MustParseAddrPort("239.255.255.250:1900")

// Announcement is one answer to an M-SEARCH.
type Announcement struct {
	_ [0]func() // not comparable: no generated equality function (binary size)

	From     netip.Addr
	Location string
	ST       string
	Server   string
}

// Discover sends SSDP M-SEARCH requests for an IGD to the multicast group
// and, when gateway is valid, to the gateway directly (unicast reaches it
// even where multicast is filtered), and collects answers until the context
// ends or the gateway has answered. It never fails for lack of answers: an
// empty list is the answer.
func Discover(ctx context.Context, gateway netip.Addr) ([]Announcement, error) {
	pc, err := sock.ListenUDP4()
	if err != nil {
		return nil, fmt.Errorf("ssdp: listen: %w", err)
	}
	// No defers (smaller code): the agent discovers only on wan.RunProbes'
	// goroutines, where a panic ends the process.
	stop := pc.ReadsEndWith(ctx)
	found, err := search(ctx, pc, gateway)
	stop()
	pc.Close()
	return found, err
}

// search sends the searches and collects the answers.
func search(ctx context.Context, pc *sock.Conn, gateway netip.Addr) ([]Announcement, error) {
	dests := []netip.AddrPort{ssdpGroup}
	if gateway.Is4() {
		dests = append(dests, netip.AddrPortFrom(gateway, ssdpGroup.Port()))
	}
	send := func() error {
		var lastErr error
		sent := 0
		for _, st := range searchTargets {
			msg := "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: " + st + "\r\n\r\n"
			for _, d := range dests {
				if _, err := pc.WriteTo([]byte(msg), d); err != nil {
					lastErr = err
				} else {
					sent++
				}
			}
		}
		if sent == 0 {
			return fmt.Errorf("ssdp: send: %w", lastErr)
		}
		return nil
	}
	if err := send(); err != nil {
		return nil, err
	}
	return collect(ctx, pc, gateway, send)
}

// collect reads answers, resending the search once after 500 ms in case the
// first datagrams were lost.
func collect(ctx context.Context, pc *sock.Conn, gateway netip.Addr, resend func() error) ([]Announcement, error) {
	var out []Announcement
	seen := map[string]bool{}
	buf := make([]byte, 2048)
	resendAt := time.Now().Add(500 * time.Millisecond)
	for ctx.Err() == nil {
		deadline := resendAt
		if resendAt.IsZero() {
			deadline = time.Now().Add(time.Hour) // the context bounds it
		}
		_ = pc.SetReadDeadline(deadline)
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if sock.IsTimeout(err) && !resendAt.IsZero() && ctx.Err() == nil {
				resendAt = time.Time{}
				_ = resend()
				continue
			}
			break
		}
		a, ok := parseAnnouncement(buf[:n])
		if !ok || seen[a.Location] {
			continue
		}
		seen[a.Location] = true
		a.From = from.Addr().Unmap()
		out = append(out, a)
		if a.From == gateway {
			break
		}
	}
	if err := ctx.Err(); errors.Is(err, context.Canceled) {
		return out, err
	}
	return out, nil
}

// parseAnnouncement reads an HTTPU "200 OK" answer with a LOCATION header.
// Devices differ in line endings and in the final empty line; accept both.
func parseAnnouncement(b []byte) (none Announcement, _ bool) {
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	if !strings.HasPrefix(lines[0], "HTTP/1.") || !strings.Contains(lines[0], " 200") {
		return none, false
	}
	var a Announcement
	for _, l := range lines[1:] {
		name, value, ok := headerField(l)
		switch {
		case !ok:
		case name == "location":
			a.Location = value
		case name == "st":
			a.ST = value
		case name == "server":
			a.Server = value
		}
	}
	// The location is fetched next: a control character (a lone CR)
	// would end up in our HTTP request line.
	if a.Location == "" {
		return none, false
	}
	for i := 0; i < len(a.Location); i++ {
		if c := a.Location[i]; c < 0x20 || c == 0x7f {
			return none, false
		}
	}
	return a, true
}
