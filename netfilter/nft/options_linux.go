package nft

import (
	"github.com/google/nftables"

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
	// Conn is the netlink connection the backend reads the ruleset with;
	// nil opens a lasting one in the caller's network namespace. Writes go
	// through a lasting socket of the backend's own (netfilter/nftwire's
	// batches), opened by New in Conn's namespace.
	Conn *nftables.Conn
}

func (o Options) validate() (config, error) {
	return validate(o.Kind, o.LANDevices, o.WAN, o.Root, o.AutoIncludes)
}
