package agent

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/vpnpass/vpnpass/agent/api"
	"github.com/vpnpass/vpnpass/agent/wan"
	"github.com/vpnpass/vpnpass/netfilter/fw"
)

// LuCI asks for the status every 10 s while its page is open, each time
// through a fresh `vpnpass rpcd call status`. Building a status reads and
// evaluates the whole ruleset twice (drift plan, inspection): 120-160 ms
// of CPU in the big-endian MIPS VM (notes/ISSUE-16.md) for an answer that
// almost never changed. The agent
// keeps the last status and builds it again only when something it is made
// of changed: the nftables generation (every commit bumps it, our own and
// the helper probe's included), the daemon's config, router or firewall
// manager (stateVer), the WAN as the watch last saw it, the LAN networks
// (any link, address or route change the WAN watch is told of), the VPN
// servers to judge, or the helper probe in use. iptables-legacy
// has no generation: while its filter table exists nothing is reused.

// statusKey is what a status was built from.
type statusKey struct {
	gen     uint32
	state   uint64
	helpers time.Time
	wan     wan.Nat
	net     uint64 // the WAN watch's change count: LAN networks too
	servers []fw.InboundServer
}

func (k *statusKey) same(o *statusKey) bool {
	if k.gen != o.gen || k.state != o.state || !k.helpers.Equal(o.helpers) ||
		k.net != o.net || !sameNat(&k.wan, &o.wan) || len(k.servers) != len(o.servers) {
		return false
	}
	for i := range k.servers {
		a, b := &k.servers[i], &o.servers[i]
		if a.Addr != b.Addr || !slices.Equal(a.Protocols, b.Protocols) {
			return false
		}
	}
	return true
}

// sameNat compares the JSON fields of two WAN looks and their probes by
// identity (a new evaluation has new ones: a rebuild, never a stale reuse).
// Not reflect.DeepEqual: it would link ~8 KB more into the binary.
func sameNat(a, b *wan.Nat) bool {
	return a.WANDevice == b.WANDevice && slices.Equal(a.Addresses, b.Addresses) && a.Gateway == b.Gateway &&
		a.Class == b.Class && a.Code == b.Code && slices.Equal(a.ConfirmedBy, b.ConfirmedBy) &&
		a.PublicAddress == b.PublicAddress && a.Upstream == b.Upstream && a.IPv6Global == b.IPv6Global &&
		a.Message == b.Message && a.Advice == b.Advice && a.Probes == b.Probes
}

// statusCache holds the last status built and its key.
type statusCache struct {
	mu   sync.Mutex
	have bool
	key  statusKey
	st   api.Status
}

func (c *statusCache) get(k *statusKey) (st api.Status, ok bool) {
	c.mu.Lock() // no defer: comparing keys and copying cannot panic (smaller code)
	if ok = c.have && c.key.same(k); ok {
		st = c.st
	}
	c.mu.Unlock()
	return st, ok
}

func (c *statusCache) put(k *statusKey, st *api.Status) {
	c.mu.Lock()
	c.have, c.key, c.st = true, *k, *st
	c.mu.Unlock()
}

// status is the live status: the last one when nothing it is made of
// changed, else a new one. Callers only read it (it is shared).
func (d *Daemon) status(ctx context.Context) (st api.Status, err error) {
	k, reuse := d.statusKey()
	if reuse {
		var ok bool
		if st, ok = d.statuses.get(&k); ok {
			return st, nil
		}
	}
	st, err = d.buildStatus(ctx, &k)
	if err == nil && reuse {
		d.statuses.put(&k, &st)
	}
	return st, err
}

// statusKey reads the key, before the status is built (a change while it is
// built makes the next call build again); reuse is false when something the
// status depends on cannot be told unchanged.
func (d *Daemon) statusKey() (statusKey, bool) {
	d.mu.Lock()
	k := statusKey{state: d.stateVer}
	servers := d.cfg.Servers
	d.mu.Unlock()
	k.servers = d.inboundServers(servers)
	reuse := d.watcher != nil && !fw.LegacyFilter()
	if d.watcher != nil {
		var have, listening bool
		k.wan, have = d.watcher.Current()
		k.net, listening = d.watcher.ChangeSeq()
		reuse = reuse && have && listening
	}
	var fresh bool
	k.helpers, fresh = d.helps.stamp()
	gen, err := fw.Generation()
	k.gen = gen
	return k, reuse && fresh && err == nil
}
