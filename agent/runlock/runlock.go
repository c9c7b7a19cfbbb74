// Package runlock serialises everything that installs or removes vpnpass's
// firewall state on one router: the agent holds an exclusive lock for its
// whole life, from before it installs anything until after its shutdown has
// removed it, and `vpnpass cleanup` takes the same lock.
//
// Why: OpenWrt's rc.common `stop` returns as soon as procd has sent SIGTERM;
// `service_stopped` (our cleanup) and a following `start` then run while
// the old agent still shuts down. Without the lock the old agent's shutdown
// removes what the new agent just installed, and a restart leaves the router
// without rules. With it, cleanup waits for the old agent to exit and a new
// agent installs nothing before the old one (and any cleanup) is done. The
// kernel drops the lock when its holder dies, even by SIGKILL, so a crashed
// agent never blocks a new one.
package runlock

import (
	"errors"
	"fmt"
	"time"
)

// ErrHeld: another process kept the lock for the whole wait.
var ErrHeld = errors.New("another vpnpass agent holds the run lock")

// PathFor returns the lock file of the agent that serves socket: one lock per
// socket, so that separate agents (tests, network namespaces) do not wait for
// each other.
func PathFor(socket string) string { return socket + ".lock" }

// HeldError tells who holds the lock.
type HeldError struct {
	_    [0]func() // not comparable: no equality function in the binary
	Path string
	PID  int // 0 when unknown
}

func (e *HeldError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = fmt.Sprintf("process %d", e.PID)
	}
	return fmt.Sprintf("%s holds %s: %v", who, e.Path, ErrHeld)
}

func (e *HeldError) Unwrap() error { return ErrHeld }

// poll is how often a waiting Acquire retries.
const poll = 20 * time.Millisecond
