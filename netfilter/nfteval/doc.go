// Package nfteval reads the live nftables ruleset over netlink and evaluates
// a representative packet through it the way the kernel would: base chains
// by hook and priority, rules in order, jumps, gotos and returns with a call
// stack, sets, maps and verdict maps. Whatever the packet's fate depends on
// and we cannot evaluate (rate limits, marks, random numbers, expressions the
// library does not decode) makes the verdict Uncertain, never a guess.
//
// Tables managed by iptables-nft (xtables) are marked and left out of the
// evaluation: the iptables inspector reads them through iptables.
package nfteval
