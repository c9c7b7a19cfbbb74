//go:build !linux

package agent

import "context"

// watchRuleset: no nftables off Linux.
func (d *Daemon) watchRuleset(ctx context.Context) <-chan struct{} { return make(chan struct{}) }
