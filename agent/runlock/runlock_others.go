//go:build !unix

package runlock

import "time"

// Lock is a no-op where flock does not exist (vpnpass runs on Linux only).
type Lock struct{}

// Acquire always succeeds here.
func Acquire(string, time.Duration) (*Lock, error) { return &Lock{}, nil }

// Release does nothing here.
func (*Lock) Release() error { return nil }

// AcquireIfExists always succeeds here.
func AcquireIfExists(string, time.Duration) (*Lock, error) { return &Lock{}, nil }
