//go:build !linux

package helpers

import "errors"

// Probe needs Linux netfilter.
func Probe(o Options) (Report, error) {
	return Report{}, errors.New("probe helpers: conntrack helpers exist only on Linux")
}

// Load needs Linux.
func Load(module string) error { return errors.New("load module: only on Linux") }
