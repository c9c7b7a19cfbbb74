package nft

import (
	"github.com/vpnpass/vpnpass/netfilter"
)

// Options configures a Backend.
type Options struct {
	// Kind is netfilter.KindFW4 or netfilter.KindNftables.
	Kind netfilter.Kind
	// LANDevices are matched with `iifname` for LAN→WAN traffic; at least one.
	LANDevices []string
	// WAN are the devices matched with `oifname` for LAN→WAN traffic, per
	// family; a family without devices gets no forward rules.
	WAN netfilter.WAN
	// Root prefixes the paths of the fw4 include file and its symlink ("" = /).
	Root string
	// AutoIncludes is fw4's `auto_includes` option. fw4's default is on, so
	// pass true unless the config says '0'. When false, fw4 never reads our
	// include: rules are repaired over netlink only (see Persistent).
	AutoIncludes bool
	// NetNS is the network namespace (an open fd; 0: the caller's) the
	// backend reads and writes the ruleset in. Reads open a socket each
	// (netfilter/nftwire's dumps); writes go through a lasting socket of
	// the backend's own (nftwire's batches), opened by New in NetNS.
	NetNS int
}

func (o Options) validate() (config, error) {
	return validate(o.Kind, o.LANDevices, o.WAN, o.Root, o.AutoIncludes)
}
