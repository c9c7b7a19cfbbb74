package nft

import (
	"context"
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// ErrNoMonitor wraps the error of WatchRuleset when the kernel refuses the
// monitor (no nf_tables, as on an fw3 image): callers then poll instead.
var ErrNoMonitor = errors.New("no nftables monitor")

// WatchRuleset reports changes of the calling thread's network namespace's
// nftables ruleset (tables, chains, rules, sets, elements, objects; anyone's,
// ours included) until ctx ends. Changes coalesce: the channel holds at most
// one signal, sent when the transaction that made them ends, and is never
// closed (a reader selecting on it together with ctx never spins).
//
// It reads the nftables multicast group itself: only the message types
// matter, and google/nftables' Monitor decodes every object of every event
// (~13 KB of the release binary for a signal, issue 16).
func WatchRuleset(ctx context.Context) (<-chan struct{}, error) {
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, nil)
	if err != nil {
		return nil, fmt.Errorf("watch ruleset: %w: open nftables netlink: %w", ErrNoMonitor, err)
	}
	if err := c.JoinGroup(unix.NFNLGRP_NFTABLES); err != nil {
		c.Close()
		return nil, fmt.Errorf("watch ruleset: %w: %w", ErrNoMonitor, err)
	}
	out := make(chan struct{}, 1)
	go forward(ctx, c, out)
	return out, nil
}

// forward turns the group's messages into coalesced signals, one per
// transaction that changed something (its NEWGEN message ends it). An
// overrun (ENOBUFS: the kernel dropped messages) is a change too.
func forward(ctx context.Context, c *netlink.Conn, out chan<- struct{}) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	changed := false
	for {
		msgs, err := c.Receive()
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, unix.ENOBUFS):
			signal(out)
			continue
		case err != nil:
			c.Close()
			return
		}
		for _, m := range msgs {
			if m.Header.Type>>8 != unix.NFNL_SUBSYS_NFTABLES {
				continue
			}
			switch t := m.Header.Type & 0xff; {
			case t == unix.NFT_MSG_NEWGEN && changed:
				signal(out)
				changed = false
			case isChange(int(t)):
				changed = true
			}
		}
	}
}

// isChange reports the message types of a ruleset change: a table, chain,
// rule, set, set element or object added or deleted.
func isChange(t int) bool {
	switch t {
	case unix.NFT_MSG_NEWTABLE, unix.NFT_MSG_DELTABLE, unix.NFT_MSG_NEWCHAIN, unix.NFT_MSG_DELCHAIN,
		unix.NFT_MSG_NEWRULE, unix.NFT_MSG_DELRULE, unix.NFT_MSG_NEWSET, unix.NFT_MSG_DELSET,
		unix.NFT_MSG_NEWSETELEM, unix.NFT_MSG_DELSETELEM, unix.NFT_MSG_NEWOBJ, unix.NFT_MSG_DELOBJ:
		return true
	}
	return false
}

// signal leaves one pending signal in out.
func signal(out chan<- struct{}) {
	select {
	case out <- struct{}{}:
	default:
	}
}
