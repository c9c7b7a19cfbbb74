package nftwire

import (
	"time"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// The objects the dump readers return. They are ours, not google/nftables'
// root package: importing that package only for its types linked its init
// (tables of names built into maps) and the test-dial code it pulls in,
// ~14 KB of the release binary (issue 16). Tests that cross-check against
// the library convert its values to these.

// Family is an nftables address family, the nfgenmsg's first byte
// (NFPROTO_*).
type Family byte

// The families a ruleset can hold.
const (
	FamilyINet   Family = unix.NFPROTO_INET
	FamilyIPv4   Family = unix.NFPROTO_IPV4
	FamilyARP    Family = unix.NFPROTO_ARP
	FamilyNetdev Family = unix.NFPROTO_NETDEV
	FamilyBridge Family = unix.NFPROTO_BRIDGE
	FamilyIPv6   Family = unix.NFPROTO_IPV6
)

// Table names a table: name and family, with the flags (dormant, owner)
// and the use count the kernel reports when it is listed.
type Table struct {
	_      [0]func() // not comparable: no generated equality function (binary size)
	Name   string
	Family Family
	Flags  uint32
	Use    uint32
}

// HookNum is the netfilter hook a base chain is attached to (NF_INET_*).
type HookNum uint32

// The hooks vpnpass reads or writes.
const (
	HookPrerouting  HookNum = unix.NF_INET_PRE_ROUTING
	HookInput       HookNum = unix.NF_INET_LOCAL_IN
	HookForward     HookNum = unix.NF_INET_FORWARD
	HookOutput      HookNum = unix.NF_INET_LOCAL_OUT
	HookPostrouting HookNum = unix.NF_INET_POST_ROUTING
)

// Priority orders the base chains of one hook: lower runs first. The kernel
// sends it as a signed 32-bit number.
type Priority int32

// Policy is what a base chain does with a packet no rule decided.
type Policy uint32

// The two policies the kernel accepts (NF_DROP, NF_ACCEPT).
const (
	PolicyDrop   Policy = 0
	PolicyAccept Policy = 1
)

// ChainType is a base chain's type as nft names it ("filter", "nat",
// "route").
type ChainType string

// ChainFilter is the type of the filtering base chains vpnpass writes and
// judges.
const ChainFilter ChainType = "filter"

// ObjCtHelper is the kernel's object type of a ct helper
// (NFT_OBJECT_CT_HELPER), as an objref expression names it.
const ObjCtHelper = unix.NFT_OBJECT_CT_HELPER

// Chain is a chain of a table as listed. Hooknum, Priority and Policy are
// set only for a base chain (the kernel sends a hook attribute for it).
type Chain struct {
	_        [0]func() // not comparable: no generated equality function (binary size)
	Name     string
	Table    *Table
	Hooknum  *HookNum
	Priority *Priority
	Type     ChainType
	Policy   *Policy
}

// Rule is a rule as listed: where it sits (Table, Chain), its handle and
// position, its user data (comment TLVs) and the expressions we decoded.
type Rule struct {
	Table    *Table
	Chain    *Chain
	Handle   uint64
	Position uint64
	Exprs    []expr.Any
	UserData []byte
}

// SetElement is a set element as vpnpass reads it back: the key (fields
// padded to 4 bytes, as on the wire), the time left before it expires and
// the counter attached to it, if any.
type SetElement struct {
	Key     []byte
	Expires time.Duration
	Counter *expr.Counter
}
