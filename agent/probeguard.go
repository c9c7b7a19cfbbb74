package agent

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
)

// probe is an active scanner, and through rpcd it is in the hands of any
// LuCI user with read access. For every caller but the local CLI (origin
// cli: root on the router's shell) it is rate limited, runs one at a time,
// and refuses to aim inward: loopback, link-local, the router's own
// addresses and the LAN's (docs/interface.md#probe,
// openwrt/examples/acl.d).
const (
	probeBurst  = 3                // remote probes in a row
	probeRefill = 20 * time.Second // one more allowed every 20 s: 3 a minute
)

type probeGuard struct {
	mu      sync.Mutex
	tokens  float64
	last    time.Time // monotonic reading of the last refill
	running bool
	now     func() time.Time
	// inward lists the prefixes of the router's own and LAN addresses.
	inward func() []netip.Prefix
}

func newProbeGuard(inward func() []netip.Prefix) *probeGuard {
	return &probeGuard{tokens: probeBurst, now: time.Now, inward: inward}
}

// admit checks a remote caller's probe of host; release must be called
// when it was admitted (nil error).
func (g *probeGuard) admit(caller api.Caller, host netip.Addr) (release func(), err error) {
	if caller.Origin == api.OriginCLI {
		return func() {}, nil
	}
	h := host.Unmap()
	if why := g.inwardWhy(h); why != "" {
		return nil, api.BadParams("probe of %s refused: %s may be probed only from the router's shell "+
			"(vpnpass probe), not through %s", h, why, caller.Origin)
	}
	g.mu.Lock() // no defer: nothing below can panic (smaller code)
	now := g.now()
	if !g.last.IsZero() {
		g.tokens = min(probeBurst, g.tokens+float64(now.Sub(g.last))/float64(probeRefill))
	}
	g.last = now
	switch {
	case g.running:
		err = api.Failed("another probe is running; try again when it has finished (probes through %s run one at a time)", caller.Origin)
	case g.tokens < 1:
		wait := time.Duration((1 - g.tokens) * float64(probeRefill)).Round(time.Second)
		err = api.Failed("probe rate limit: %d probes a minute through %s; try again in %v", int(time.Minute/probeRefill), caller.Origin, wait)
	default:
		g.tokens--
		g.running = true
	}
	g.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return func() {
		g.mu.Lock()
		g.running = false
		g.mu.Unlock()
	}, nil
}

func (g *probeGuard) inwardWhy(h netip.Addr) string {
	switch {
	case h.IsLoopback():
		return "loopback"
	case h.IsLinkLocalUnicast():
		return "a link-local address"
	}
	for _, p := range g.inward() {
		if p.Bits() == p.Addr().BitLen() && p.Addr() == h {
			return "the router's own address"
		}
		if p.Contains(h) {
			return fmt.Sprintf("a LAN address (%s)", p.Masked())
		}
	}
	return ""
}

// probeInward is the daemon's inward list: every address of the router
// (as a host prefix) and the prefixes of the LAN devices.
func (d *Daemon) probeInward() []netip.Prefix {
	d.mu.Lock()
	lans := append([]string(nil), d.router.LANDevices...)
	d.mu.Unlock()
	own, lan := routerAddrs(lans)
	var out []netip.Prefix
	for _, a := range own {
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return append(out, lan...)
}

func (d *Daemon) handleProbe(ctx context.Context, p *api.ProbeParams) (*api.ProbeResult, error) {
	if host, err := netip.ParseAddr(p.Host); err == nil {
		release, err := d.probes.admit(api.CallerFrom(ctx), host)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	return handleProbe(ctx, p)
}
