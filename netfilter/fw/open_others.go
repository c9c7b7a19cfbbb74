//go:build !linux

package fw

import (
	"errors"

	"github.com/vpnpass/vpnpass/netfilter"
)

// Open needs Linux netfilter.
func Open(o Options) (*Manager, Detection, error) {
	return nil, Detection{}, errors.New("open firewall: netfilter exists only on Linux")
}

// OpenSpecs needs Linux netfilter.
func OpenSpecs(specs []Spec, det Detection, o Options) (*Manager, error) {
	return nil, errors.New("open firewall: netfilter exists only on Linux")
}

// CleanupAll needs Linux netfilter.
func CleanupAll(root string) error { return errors.New("cleanup: netfilter exists only on Linux") }

// Inspect needs Linux netfilter.
func Inspect(o InspectOptions) (Inspection, error) {
	return Inspection{}, errors.New("inspect: netfilter exists only on Linux")
}

// Explain needs Linux netfilter.
func Explain(p netfilter.Packet) (netfilter.Explanation, error) {
	return netfilter.Explanation{}, errors.New("explain: netfilter exists only on Linux")
}
