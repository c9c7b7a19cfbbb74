// Package netfilter inspects the router's firewall (nftables and iptables) and
// brings VPN passthrough rules to a desired state. It knows the kernel and
// nothing of the agent: it returns wrapped errors and never logs.
package netfilter

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vpnpass/vpnpass/vpn"
)

// noCompare makes a struct not comparable: the compiler then emits no
// equality function for it (~500–700 B of mips code per JSON type that is
// never compared with ==). Zero size, first, so it adds no padding.
type noCompare [0]func()

// Mode is what vpnpass does for one protocol.
type Mode string

// Modes: allow (passthrough on), block (LAN→WAN footprint dropped) or default
// (vpnpass owns nothing for the protocol; the firewall's own policy decides).
const (
	ModeAllow   Mode = "allow"
	ModeBlock   Mode = "block"
	ModeDefault Mode = "default"
)

// ParseMode validates a mode name; the error lists the valid ones.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case ModeAllow, ModeBlock, ModeDefault:
		return Mode(s), nil
	}
	return "", errors.New("unknown mode " + strconv.Quote(s) + ": must be one of allow, block, default")
}

// Desired is the wanted mode per protocol. A missing protocol means default.
type Desired map[vpn.Protocol]Mode

// Mode returns the desired mode of p, default when unset.
func (d Desired) Mode(p vpn.Protocol) Mode {
	if m, ok := d[p]; ok && m != "" {
		return m
	}
	return ModeDefault
}

// Kind names a firewall implementation, as the API spells it
// (docs/interface.md#status).
type Kind string

// Firewall kinds.
const (
	KindFW4            Kind = "fw4"
	KindNftables       Kind = "nftables"
	KindFW3            Kind = "fw3"
	KindIptablesLegacy Kind = "iptables-legacy"
	KindIptablesNft    Kind = "iptables-nft"
	KindNone           Kind = "none"
)

// Verdict is what a packet gets from the firewall.
type Verdict string

// Verdicts. Uncertain means we met an expression we cannot evaluate: never a guess.
const (
	Accept    Verdict = "accept"
	Drop      Verdict = "drop"
	Reject    Verdict = "reject"
	Uncertain Verdict = "uncertain"
)

// worseness orders verdicts for "the worst of its elements" (a switch:
// a map literal costs init code on every start).
func worseness(v Verdict) int {
	switch v {
	case Uncertain:
		return 1
	case Reject:
		return 2
	case Drop:
		return 3
	}
	return 0
}

// Worst returns the worse of two verdicts (drop > reject > uncertain > accept).
func Worst(a, b Verdict) Verdict {
	if a == "" {
		return b
	}
	if worseness(b) > worseness(a) {
		return b
	}
	return a
}

// Tag is the comment every rule we put in a foreign chain carries.
func Tag(p vpn.Protocol) string { return "vpnpass:" + string(p) }

// TagPrefix starts every comment/tag of ours; TablePrefix every table, chain,
// set and object we own.
const (
	TagPrefix   = "vpnpass:"
	TablePrefix = "vpnpass"
)

// IsOurTag reports whether a rule comment marks the rule as ours.
func IsOurTag(comment string) bool { return strings.HasPrefix(comment, TagPrefix) }

// Change is one planned or applied change, for --dry-run and the `set` plan.
type Change struct {
	_        noCompare
	Action   string       `json:"action"` // "add" or "delete"
	Backend  Kind         `json:"backend"`
	Family   string       `json:"family"` // nft family (inet, ip, ip6) or iptables/ip6tables
	Table    string       `json:"table"`
	Chain    string       `json:"chain"`
	Protocol vpn.Protocol `json:"protocol,omitempty"`
	Rule     string       `json:"rule"` // human-readable, nft or iptables syntax
}

// AddChanges appends v to *s: one call instead of append's inline code at
// each site (see internal/slicex).
func AddChanges(s *[]Change, v ...Change) { *s = append(*s, v...) }

// Decider names what decided a verdict: a rule, or a chain's policy.
type Decider struct {
	_       noCompare
	Table   string `json:"table"`
	Chain   string `json:"chain"`
	Handle  uint64 `json:"handle,omitempty"`
	Comment string `json:"comment,omitempty"`
	Policy  string `json:"policy,omitempty"`
	Backend Kind   `json:"backend,omitempty"`
}

// ElementStatus is the verdict one footprint element gets, and why.
type ElementStatus struct {
	// Element is the footprint element the status is about; Match and
	// Family are its JSON face.
	Element   vpn.Element `json:"-"`
	Match     string      `json:"match"`
	Family    vpn.Family  `json:"family"`
	Verdict   Verdict     `json:"verdict"`
	DecidedBy *Decider    `json:"decided_by,omitempty"`
	// Replies is the verdict the server's answer gets on its way back
	// (WAN→LAN, established; GRE of a PPTP call as related). An addition to
	// the normative Proto element (docs/interface.md#status): a VPN also
	// fails when answers are dropped.
	Replies Verdict `json:"replies,omitempty"`
	// Exceptions are the hosts (source address, MAC) or servers
	// (destination address) the rules treat otherwise: Verdict is for an
	// arbitrary LAN host talking to an arbitrary server. An addition to
	// the normative Proto element (docs/interface.md#status).
	Exceptions []Exception `json:"exceptions,omitempty"`
}

// ProtoStatus is the API's Proto object (docs/interface.md#status).
type ProtoStatus struct {
	Mode     Mode            `json:"mode"`
	Verdict  Verdict         `json:"verdict"`
	Elements []ElementStatus `json:"elements"`
	Drift    bool            `json:"drift"`
}

// Packet is a representative packet to evaluate against the ruleset.
type Packet struct {
	Family  vpn.Family
	L4      uint8
	SrcPort uint16
	DstPort uint16
	Src     netip.Addr
	Dst     netip.Addr
	InIf    string // input interface (the LAN device for LAN→WAN)
	OutIf   string // output interface (the WAN device)
	// CtState is the conntrack state bits as nftables names them:
	// "new", "established", "related", "invalid", "untracked".
	CtState string
	// CtDirection is "original" or "reply" (`ct direction`); "" means
	// original for a new packet and unknown otherwise.
	CtDirection string
	// SrcMAC is the sender's MAC address as the router receives it
	// (`ether saddr`); nil: unknown.
	SrcMAC net.HardwareAddr
	// Mark and CtMark are the packet's and its connection's marks when
	// known (nil: unknown); a chain that sets them hands the new values on
	// in Explanation.After.
	Mark, CtMark *uint32
	// DNAT says whether the connection's destination was rewritten before
	// this hook (`ct status dnat`); nil: unknown.
	DNAT *bool
	// Now is the time `meta time/day/hour` see; zero: the system clock.
	Now time.Time
}

// U32 returns a pointer to v, for Packet.Mark and CtMark.
func U32(v uint32) *uint32 { return &v }

// Bool returns a pointer to v, for Packet.DNAT.
func Bool(v bool) *bool { return &v }

// Step is one step of a verdict path, for `explain`.
type Step struct {
	_       noCompare
	Backend Kind    `json:"backend"`
	Table   string  `json:"table"`
	Chain   string  `json:"chain"`
	Handle  uint64  `json:"handle,omitempty"`
	Rule    string  `json:"rule,omitempty"` // readable summary
	Comment string  `json:"comment,omitempty"`
	Effect  string  `json:"effect"` // "match", "jump", "goto", "return", "accept", "drop", "reject", "policy", "uncertain"
	Verdict Verdict `json:"verdict,omitempty"`
}

// AddSteps appends v to *path: one call instead of append's inline
// growslice and 15-word copies at every site (see internal/slicex).
func AddSteps(path *[]Step, v ...Step) { *path = append(*path, v...) }

// Explanation is the verdict of one packet and the path that led to it.
type Explanation struct {
	Verdict   Verdict  `json:"verdict"`
	DecidedBy *Decider `json:"decided_by,omitempty"`
	Path      []Step   `json:"path"`
	// After is the packet as the chain hands it on (marks it set, DNAT it
	// did), for the next base chain on the hook; nil: unchanged.
	After *Packet `json:"-"`
}

// NFTFamilyName spells an nftables table family (its NFPROTO number, as
// google/nftables' TableFamily carries it) the way nft does.
func NFTFamilyName(f uint8) string {
	if int(f) < len(nftFamilies) && nftFamilies[f] != "" {
		return nftFamilies[f]
	}
	return "family" + strconv.Itoa(int(f))
}

// nftFamilies are the names by NFPROTO number.
var nftFamilies = [...]string{1: "inet", 2: "ip", 3: "arp", 5: "netdev", 7: "bridge", 10: "ip6"}
