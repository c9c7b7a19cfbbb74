// Package ipt is the iptables side of vpnpass: the netfilter.Backend for fw3,
// iptables-legacy and iptables-nft, and an Inspector that evaluates packets
// against the rules those tools hold.
//
// Everything goes through Tool (xtables_linux.go), which runs the iptables
// binaries of the chosen variant (iptables-legacy / ip6tables-legacy or
// iptables-nft / ip6tables-nft) with --wait, as github.com/coreos/go-iptables
// did before it was dropped for its size (regexp, ~260 KB on mips). The rule
// specs it returns (`iptables -S` lines, the format go-iptables returned
// too) are the one output format of iptables we read; this package parses
// them into a typed rule (rules.go) and never reads any other tool's output.
// A table is read with one `iptables -t T -S` (listTable): its -P/-N lines
// name the chains, and each chain's -A lines are parsed when it is needed.
//
// Ownership: our chains are vpnpass_fwd (filter) and vpnpass_helper (raw), each
// reached by one jump tagged vpnpass:jump; every rule carries the comment
// vpnpass:<protocol>. Plan, Apply and Cleanup find ours by these names and
// tags only and never touch anything else.
//
// Evaluation (Inspector) understands -s/-d, -i/-o (with + and !), -p, -f,
// -m tcp/udp (--sport/--dport, ranges), multiport, conntrack --ctstate,
// state, comment, ah/esp, and the targets ACCEPT, DROP, REJECT, RETURN,
// user chains (-j and -g) and targets that only continue (LOG, MARK,
// TCPMSS...). Anything else on a packet's path makes the verdict Uncertain.
// Two assumptions about the representative packets are built in: they are
// not destination-NATed (ctstate DNAT is false; SNAT is unknown), and an
// IPv6 AH packet is in tunnel mode (what -p sees after AH is IPv6, 41).
package ipt
