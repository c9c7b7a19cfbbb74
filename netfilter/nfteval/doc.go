// Package nfteval reads the live nftables ruleset over netlink and evaluates
// a representative packet through it the way the kernel would: base chains
// by hook and priority, rules in order, jumps, gotos and returns with a call
// stack, sets, maps and verdict maps. Whatever the packet's fate depends on
// and we cannot evaluate makes the verdict Uncertain, never a guess.
//
// Read takes one consistent snapshot (the ruleset generation is the same
// before and after): tables, chains, rules with handles, expressions and
// comments, named and anonymous sets, maps and verdict maps with their
// elements, ct helper objects, flowtables, and the namespace's device
// indexes. Rules are decoded expression by expression, so an expression the
// library cannot decode stays visible as *Opaque instead of vanishing.
//
// Evaluation models the kernel's registers with known and unknown bytes:
//   - meta nfproto, l4proto, protocol, iifname/oifname (NUL padded, nft's
//     "eth*" prefix), iif/oif (indexes), pkttype; payload loads from the
//     IPv4/IPv6 header (protocol, addresses) and the TCP/UDP header (ports,
//     and SYN for a new TCP connection); ct state (host order), ct l3proto
//     and protocol;
//   - meta mark and ct mark as the caller gives them, changed by `meta mark
//     set`/`ct mark set` (a doubtful rule's set keeps only what both
//     outcomes agree on) and handed to the next base chain (Explanation.After);
//     `ct status` of a new connection's first packet (the low byte: not yet
//     confirmed, seen, assured or source-NATed; DNAT as the caller says);
//     meta time, day and hour from the clock (Packet.Now) and the kernel's
//     timezone; ether saddr (and iiftype ether) when the MAC is given;
//   - IPv6 AH as the kernel sees it: nftables stops at AH (l4proto ah),
//     conntrack and reject look past it to the tunnelled IPv6 packet, whose
//     missing checksum makes a reject send nothing (a drop);
//   - cmp (all operators, memcmp order), range, bitwise mask/xor (prefixes),
//     byteorder, immediate data;
//   - lookups in anonymous and named sets (hash, interval, concatenated
//     interval), data maps and verdict maps, inverted lookups;
//   - verdicts accept, drop, jump, goto, return, continue; reject; NAT
//     statements (accept in their chain); counter, log, notrack, dup, flow
//     offload, ct helper/timeout/expectation assignment, meta/ct/payload set
//     as side effects.
//
// A packet field the caller leaves zero (address, port, device, ct state) is
// unknown. A comparison on an unknown byte is undecided; so are limit, quota,
// ct count, and loads we do not model (other meta keys, numgen, jhash, fib,
// rt, socket, exthdr, xfrm). An undecided match
// followed by a verdict is decided by following both cases (at most 6
// splits per evaluation): when the packet's fate is the same either way,
// that is the verdict; otherwise it is Uncertain (named by the rule); one
// whose rule only counts or logs does not matter; a later match that surely
// fails rescues it. Expressions we do not evaluate at all (queue, synproxy,
// tproxy, xtables compat, anything *Opaque) make the outcome Uncertain as
// soon as they are reached.
//
// Tables managed by iptables-nft (xtables) are marked and left out of the
// evaluation: the iptables inspector reads them through iptables.
package nfteval
