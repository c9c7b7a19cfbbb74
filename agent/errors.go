package agent

import "errors"

var (
	errNoFirewall = errors.New("the firewall could not be opened (see `vpnpass status` and the agent's log)")
	errBadSince   = errors.New("since must be an RFC 3339 time (2026-01-02T15:04:05Z) or a duration back from now (1h, 30m)")
	errBadLimit   = errors.New("limit must be zero (the default, 50) or positive")
	errBadUntil   = errors.New("until must be an RFC 3339 time (2026-01-02T15:04:05Z) or a duration back from now (1h, 30m)")
	errBadBefore  = errors.New("before must be zero (the newest events) or the seq of an event")
)
