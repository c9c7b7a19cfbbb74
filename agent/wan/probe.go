package wan

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/vpnpass/vpnpass/agent/wan/igd"
	"github.com/vpnpass/vpnpass/agent/wan/natpmp"
	"github.com/vpnpass/vpnpass/agent/wan/stun"
)

// ProbeConfig says which active checks run. All are off by default.
type ProbeConfig struct {
	// STUNServer is "host" or "host:port" (default port 3478); "" = no STUN.
	STUNServer string
	// NATPMP asks the default gateway for its external address (RFC 6886).
	NATPMP bool
	// IGD discovers the upstream UPnP gateway (model, external address).
	IGD bool
	// Timeout bounds each check (default 3 s); the checks run in parallel.
	Timeout time.Duration
	// Exec runs fn where the probe's sockets must live (e.g. inside a
	// network namespace on a locked thread); nil runs fn directly.
	Exec func(fn func() error) error
}

// Enabled reports whether any check is configured.
func (c ProbeConfig) Enabled() bool { return c.STUNServer != "" || c.NATPMP || c.IGD }

// RunProbes runs the configured checks against the WAN described by info.
// all=true also runs NAT-PMP and IGD when not configured (`nat --probe`);
// STUN always needs a configured server. Failures end up in the results'
// Err fields: a probe never fails the verdict.
func RunProbes(ctx context.Context, info *Info, cfg ProbeConfig, all bool) Probes {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	exec := cfg.Exec
	if exec == nil {
		exec = func(fn func() error) error { return fn() }
	}
	var p Probes
	var wg sync.WaitGroup
	gw, timeout := info.Gateway, cfg.Timeout
	run := func(fn func()) {
		wg.Add(1)
		go func() { // no defer: a panic here ends the process (smaller code)
			_ = exec(func() error { fn(); return nil })
			wg.Done()
		}()
	}
	if cfg.STUNServer != "" {
		p.STUN = &STUNResult{Server: cfg.STUNServer}
		run(func() { runSTUN(ctx, p.STUN, timeout) })
	}
	if cfg.NATPMP || all {
		p.NATPMP = &ExternalResult{Gateway: info.Gateway}
		run(func() { runNATPMP(ctx, gw, timeout, p.NATPMP) })
	}
	if cfg.IGD || all {
		p.IGD = &ExternalResult{}
		run(func() { runIGD(ctx, gw, timeout, p.IGD) })
	}
	wg.Wait()
	return p
}

func runSTUN(ctx context.Context, out *STUNResult, timeout time.Duration) {
	res, err := stun.Query(ctx, out.Server, stun.Options{Timeout: timeout})
	out.Local, out.Mapped, out.Err = res.Local, res.Mapped, err
}

var errNoGateway = errors.New("no IPv4 gateway to ask")

func runNATPMP(ctx context.Context, gw netip.Addr, timeout time.Duration, out *ExternalResult) {
	if !gw.Is4() {
		out.Err = errNoGateway
		return
	}
	res, err := natpmp.ExternalAddress(ctx, gw, natpmp.Options{Timeout: timeout})
	out.External, out.Err = res.External, err
}

// runIGD searches only where there is an IPv4 gateway: without one (PPP,
// tunnels) there is no upstream LAN box to ask, and no search is sent.
func runIGD(ctx context.Context, gw netip.Addr, timeout time.Duration, out *ExternalResult) {
	if !gw.Is4() {
		out.Err = errNoGateway
		return
	}
	res, err := igd.Probe(ctx, igd.Options{Gateway: gw, Timeout: timeout})
	out.Gateway, out.External, out.Model, out.Err = res.Address, res.External, res.Device.Model(), err
}
