// Package ipt is the iptables side of vpnpass: the netfilter.Backend for fw3,
// iptables-legacy and iptables-nft, and an Inspector that evaluates packets
// against the rules those tools hold.
//
// Everything goes through github.com/coreos/go-iptables, which runs the
// iptables binaries of the chosen variant (iptables-legacy / ip6tables-legacy
// or iptables-nft / ip6tables-nft) with --wait. The rule specs it returns
// (`iptables -S` lines) are the library's output format; this package parses
// them into a typed rule (rules.go) and never reads any other tool's output.
//
// Ownership: our chains are vpnpass_fwd (filter) and vpnpass_helper (raw), each
// reached by one jump tagged vpnpass:jump; every rule carries the comment
// vpnpass:<protocol>. Plan, Apply and Cleanup find ours by these names and
// tags only and never touch anything else.
package ipt
