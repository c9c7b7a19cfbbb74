package agent

import (
	"context"
	"sync"
)

// testHooks run beside the daemon from its start until its context ends.
// The normal build has none: only files built with the vpnpass_testhooks
// tag add any (testhooks_flood.go), so test-only behaviour never ships and
// no API method exists for it.
var testHooks []func(ctx context.Context, d *Daemon)

// testPaths adjust the daemon's paths before it starts (test builds only:
// testhooks_root.go), so a test can give fw4's include tree a temp root.
var testPaths []func(p *Paths)

// startTestHooks starts every registered hook on wg, so Run waits for them
// before it closes the history they write to.
func (d *Daemon) startTestHooks(ctx context.Context, wg *sync.WaitGroup) {
	for _, h := range testHooks {
		wg.Add(1)
		go func() { // no defer: a panic here ends the process (smaller code)
			h(ctx, d)
			wg.Done()
		}()
	}
}
