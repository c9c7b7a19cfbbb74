package agent

import (
	"sync"
	"time"

	"github.com/vpnpass/vpnpass/helpers"
)

// helperCacheFor bounds how long a helper probe is reused. Probing creates
// and deletes a throw-away nftables table: every status poll (LuCI polls)
// would otherwise stir the ruleset monitor and make the reconcile loop look
// for drift. Helpers change only when a module is loaded or a package
// installed, so a few minutes are fine.
const helperCacheFor = 5 * time.Minute

// helperCache remembers the last helper probe.
type helperCache struct {
	mu    sync.Mutex
	rep   helpers.Report
	at    time.Time
	probe func() (helpers.Report, error)
}

func newHelperCache() *helperCache {
	return &helperCache{probe: func() (helpers.Report, error) { return helpers.Probe(helpers.Options{}) }}
}

// get returns a fresh enough probe result.
func (c *helperCache) get() (helpers.Report, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < helperCacheFor {
		return c.rep, nil
	}
	rep, err := c.probe()
	if err != nil {
		return rep, err
	}
	c.rep, c.at = rep, time.Now()
	return rep, nil
}

// forget makes the next get probe again (after a reload).
func (c *helperCache) forget() {
	c.mu.Lock()
	c.at = time.Time{}
	c.mu.Unlock()
}

// stamp is when the probe in use was taken, and whether get would reuse it.
func (c *helperCache) stamp() (time.Time, bool) {
	c.mu.Lock()
	at := c.at
	c.mu.Unlock()
	return at, !at.IsZero() && time.Since(at) < helperCacheFor
}
