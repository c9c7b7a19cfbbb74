// Package platform is a leaf every package may import: it holds the one
// error that kernel-facing functions return on a system without Linux's
// netfilter and netlink (vpnpass builds everywhere for tests and tools, but
// acts only on Linux).
package platform

import (
	"errors"
	"fmt"
)

// ErrNotLinux is returned off Linux by every function that needs the Linux
// kernel. It wraps errors.ErrUnsupported, so callers can test for either.
var ErrNotLinux = fmt.Errorf("only available on Linux: %w", errors.ErrUnsupported)
