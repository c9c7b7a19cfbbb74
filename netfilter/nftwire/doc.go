// Package nftwire is the one nftables wire layer of vpnpass: it decodes rule
// expressions from netlink (google/nftables v0.3.0 decodes `ct direction` as
// 32 bits where the kernel sends 8, fails a whole rule list on it and drops
// expressions it does not know; here each expression is decoded on its own
// and one the library cannot read stays visible as *Opaque), and it holds
// the text helpers and the device-name codec that the backend (netfilter/nft)
// and the evaluator (netfilter/nfteval) share, so both read and print a rule
// alike. It is also the one nftables writer: Batch encodes the tables,
// chains, rules, sets and ct helper objects vpnpass writes as google/nftables
// does (the tests compare every message) and sends them as one transaction,
// without the library's Conn writers and expression marshals (issue 16).
package nftwire
