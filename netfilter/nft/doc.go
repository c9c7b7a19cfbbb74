// Package nft is the nftables backend of vpnpass: OpenWrt's fw4 and any
// plain nftables ruleset, driven over netlink: read with google/nftables
// and our dump readers, written with netfilter/nftwire's batches.
//
// What it owns (docs/design.md#backends):
//   - the table `inet vpnpass`: the ct helper object `vpnpass_pptp` and its
//     assignment rules (base chains prerouting and output at priority -150),
//     and the block rules (base chain forward at +10: a drop in any base
//     chain is final, so one place is enough, and our own table survives a
//     fw4 reload);
//   - allow rules, the LAN→WAN footprint and its replies, inserted at the
//     head of every foreign forward base chain that could drop them (fw4:
//     `inet fw4 forward`; otherwise every non-iptables-nft forward base
//     chain with a drop policy or a reachable drop/reject/queue/verdict map),
//     each with the comment `vpnpass:<protocol>`;
//   - on fw4 with auto_includes, the include file
//     <Root>/var/run/vpnpass/fw4-forward.nft (symlinked from
//     /usr/share/nftables.d/chain-pre/forward/10-vpnpass.nft) that makes fw4
//     render the same allow rules on each reload, validated with `nft -c`
//     before it is put in place;
//   - the throw-away tables `inet vpnpass_probe_<pid>` of ProbeCtHelper
//     (which asks the kernel whether a ct helper can be assigned), removed
//     by the probe itself or, after a kill, by RemoveProbeTables.
//
// WatchRuleset is the one nftables monitor of vpnpass (the agent repairs on
// its signals).
//
// Plan reads all of that back and compares rules by a canonical form of
// their expressions; Apply executes the plan in one netlink batch (then
// writes or removes the include file); Cleanup removes everything tagged or
// named as ours, whoever left it. In the returned changes, Family is the nft
// family ("inet", "ip", "ip6"), or "file" for the include file and its
// symlink (Table then holds the path).
//
// Known limits: tables owned by another process (NFT_TABLE_F_OWNER) and
// iptables-nft's tables are never written (the latter belong to the
// iptables backend); verdict maps in foreign chains are assumed to drop; a
// pptp allow needs the kernel's pptp helper (creating the object fails
// otherwise, and so does the whole batch).
package nft
