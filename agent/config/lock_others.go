//go:build !linux

package config

// lockConfig: libuci's lock only matters on OpenWrt (Linux).
func lockConfig(string) (func(), error) { return func() {}, nil }
