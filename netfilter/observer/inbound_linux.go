package observer

import (
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

// Inbound attempts: packets from outside the LAN to the router's own
// addresses on a VPN port or protocol, counted on the input hook ahead of
// the filter (so the ones it drops count too). A port forward rewrote its
// packets on prerouting already, so they never come here: what is counted
// is what nothing forwarded. Only a connection's original direction
// counts: the answers to the router's own VPN client are not attempts.
const (
	obsChainInput = "input"
	obsChainWAN   = "count_wan"
)

// addInboundHook queues the input base chain and its one rule:
//
//	iifname != @lan ct direction original jump count_wan
func addInboundHook(b *nftwire.Batch, lan setRef) {
	b.AddChain(inet, TableName, obsChainInput, &nftwire.Hook{Num: unix.NF_INET_LOCAL_IN, Priority: obsPriority})
	b.AddRule(inet, TableName, obsChainInput, []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
		&expr.Lookup{SourceRegister: 1, SetName: lan.name, SetID: lan.id, Invert: true},
		&expr.Ct{Key: expr.CtKeyDIRECTION, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{0}}, // IP_CT_DIR_ORIGINAL
		&expr.Verdict{Kind: expr.VerdictJump, Chain: obsChainWAN},
	}, nil, false)
}
