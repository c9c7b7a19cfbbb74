package netfilter

import "github.com/vpnpass/vpnpass/vpn"

// Backend brings one firewall's share of our rules to a desired state. It is
// declarative: desired per-protocol modes in, the kernel brought to match.
// Implementations: fw4 and plain nftables (netfilter/nft, over netlink),
// fw3 / iptables-legacy / iptables-nft (netfilter/ipt, running the iptables binaries),
// and the composite that the agent uses (netfilter/fw), which places an allow
// in every firewall that could drop it.
type Backend interface {
	// Kind names the firewall this backend writes to.
	Kind() Kind
	// Plan returns the changes Apply(d) would make now. Empty means the
	// kernel already matches d: no drift.
	Plan(d Desired) ([]Change, error)
	// Apply brings the kernel to match d and returns the changes it made.
	// Applying the same d twice changes nothing the second time. nftables
	// backends apply in one atomic batch; iptables backends apply, read back
	// and roll back on mismatch.
	Apply(d Desired) ([]Change, error)
	// Cleanup removes everything of ours this backend can see, even what an
	// earlier (crashed) process or another backend kind left behind.
	Cleanup() error
}

// Inspector reads one firewall's base chains on a hook so the packet path
// through all firewalls of the router can be evaluated together.
type Inspector interface {
	// Chains returns the base chains hooked at hook ("prerouting", "forward",
	// "output", "postrouting", "input") for family (IPv4 or IPv6).
	Chains(hook string, family vpn.Family) ([]Chain, error)
}

// ChainRef identifies a base chain of some firewall.
type ChainRef struct {
	_        noCompare
	Backend  Kind
	Family   string // nft family (inet, ip, ip6, ...) or "iptables"/"ip6tables"
	Table    string
	Name     string
	Hook     string
	Priority int32
	Policy   Verdict // accept or drop
}

// Chain is a base chain able to evaluate a packet. Evaluate returns Accept
// when the chain lets the packet continue (to the next base chain on the
// hook), Drop/Reject when it ends it here, Uncertain when an expression on the
// packet's path could not be evaluated.
type Chain interface {
	Ref() ChainRef
	Evaluate(p Packet) Explanation
}
