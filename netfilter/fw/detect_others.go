//go:build !linux

package fw

import "errors"

// Detect needs Linux netfilter.
func Detect() (Detection, error) {
	return Detection{}, errors.New("detect firewall: netfilter exists only on Linux")
}
