package observer

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/netfilter/nft"
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
)

// Table manages the observer table `inet vpnpass_watch` in one network
// namespace. The zero value works in the calling thread's namespace.
type Table struct {
	NetNS int // namespace file descriptor; 0: the calling thread's
}

// Ensure installs or repairs the observer in the calling thread's
// namespace; see Table.Ensure.
func Ensure(lanDevices []string) error { return Table{}.Ensure(lanDevices) }

// Read reads the observer's counters in the calling thread's namespace; see
// Table.Read.
func Read() ([]vpn.ObserverEntry, error) { return Table{}.Read() }

// Remove removes the observer table of the calling thread's namespace (what
// netfilter/fw.CleanupAll does); see Table.Remove.
func Remove() error { return Table{}.Remove() }

var obsTable = &nftwire.Table{Family: nftwire.FamilyINet, Name: TableName}

// Ensure makes the observer match: counting chains hooked at forward and
// output (priority -10, never a verdict), the four counting sets, and the
// set of LAN devices. If the table is intact only the LAN devices are
// replaced, so counters survive; otherwise the table is rebuilt. Either way
// in one atomic batch.
func (o Table) Ensure(lanDevices []string) error {
	intact, err := o.intact()
	if err != nil {
		return err
	}
	var b nftwire.Batch
	if intact {
		// Write nothing when nothing changed: every write of ours is a
		// ruleset event, the agent repairs on ruleset events, and a repair
		// ensures the observer: rewriting the set each time looped
		// (~18 rewrites/s, 87% CPU on a MIPS router).
		same, err := hasElements(o.NetNS, lanElements(lanDevices))
		if err != nil {
			return err
		}
		if same {
			return nil
		}
		b.FlushSet(inet, TableName, obsSetLAN)
		b.SetAddElements(inet, TableName, obsSetLAN, lanElements(lanDevices))
	} else {
		build(&b, lanDevices)
	}
	if err := b.SendIn(o.NetNS); err != nil {
		return fmt.Errorf("install table inet %s: %w", TableName, err)
	}
	return nil
}

// intact reports whether the table exists with every chain, set and rule.
func (o Table) intact() (bool, error) {
	t, err := ourTable(o.NetNS)
	if t == nil {
		return false, err
	}
	sets, err := nft.SetNames(o.NetNS, t)
	if err != nil {
		return false, fmt.Errorf("list sets of %s: %w", TableName, err)
	}
	if !sets[obsSetLAN] {
		return false, nil
	}
	for _, f := range obsFamilies {
		for _, d := range obsDirs {
			if !sets[f.sets[d.set]] {
				return false, nil
			}
		}
	}
	rules := [...]struct {
		chain string
		n     int
	}{{obsChainForward, 2}, {obsChainOutput, 1}, {obsChainOut, 8}, {obsChainIn, 8}, {obsChainInput, 1}, {obsChainWAN, 8}}
	for _, r := range rules {
		got, _, err := nftwire.Rules(o.NetNS, t, r.chain)
		if err != nil || len(got) != r.n {
			return false, nil // missing chain or edited rules: rebuild
		}
	}
	return true, nil
}

// inet is the observer table's family on the wire.
const inet = unix.NFPROTO_INET

// Sets of the observer besides the counting sets: the LAN devices (named;
// interface names are strings, which nft keeps in host byte order: say so,
// or `nft list` shows them reversed (empty)), and the anonymous constant
// sets of the counted protocols with and without a port.
var (
	lanSet   = nftwire.Set{Name: obsSetLAN, KeyType: nftwire.TypeIFName, KeyLen: unix.IFNAMSIZ, HostOrder: true}
	protoSet = nftwire.Set{KeyType: nftwire.TypeInetProto, KeyLen: 1}
)

// ourTable finds the observer's table in namespace netns (nil if absent).
func ourTable(netns int) (*nftwire.Table, error) {
	ts, err := nftwire.Tables(netns, unix.NFPROTO_INET)
	if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, unix.ENOENT) {
		return nil, fmt.Errorf("look up table inet %s: %w", TableName, err)
	}
	for _, t := range ts {
		if t.Name == TableName {
			return t, nil
		}
	}
	return nil, nil
}

// build queues the whole table: add, delete (drops any damaged leftover),
// add again, then everything inside.
func build(b *nftwire.Batch, lanDevices []string) {
	b.AddTable(inet, TableName)
	b.DelTable(inet, TableName)
	b.AddTable(inet, TableName)
	lan := setRef{}
	lan.name, lan.id = b.AddSet(inet, TableName, &lanSet, lanElements(lanDevices))
	for _, ch := range [...]string{obsChainOut, obsChainIn, obsChainWAN} {
		b.AddChain(inet, TableName, ch, nil)
	}
	for _, d := range obsDirs {
		for _, f := range obsFamilies {
			addCountRules(b, f, d)
		}
	}
	b.AddChain(inet, TableName, obsChainForward, &nftwire.Hook{Num: unix.NF_INET_FORWARD, Priority: obsPriority})
	b.AddChain(inet, TableName, obsChainOutput, &nftwire.Hook{Num: unix.NF_INET_LOCAL_OUT, Priority: obsPriority})
	jump(b, obsChainForward, expr.MetaKeyIIFNAME, lan, false, obsChainOut) // from the LAN: the host's requests
	jump(b, obsChainForward, expr.MetaKeyOIFNAME, lan, false, obsChainIn)  // to the LAN: the servers' answers
	jump(b, obsChainOutput, expr.MetaKeyOIFNAME, lan, true, obsChainOut)
	addInboundHook(b, lan)
}

// jump queues `<key> [!=] @lan jump <to>` in chain.
func jump(b *nftwire.Batch, chain string, key expr.MetaKey, lan setRef, invert bool, to string) {
	b.AddRule(inet, TableName, chain, []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Lookup{SourceRegister: 1, SetName: lan.name, SetID: lan.id, Invert: invert},
		&expr.Verdict{Kind: expr.VerdictJump, Chain: to},
	}, nil, false)
}

// setRef names a set created in the same batch, for lookups and updates.
type setRef struct {
	name string
	id   uint32
}

func addCountRules(b *nftwire.Batch, f obsFamily, d obsDir) {
	var set, ports, protos setRef
	set.name, set.id = b.AddSet(inet, TableName, f.countSet(d), nil)
	ports.name, ports.id = b.AddSet(inet, TableName, &portSet, portElements())
	protos.name, protos.id = b.AddSet(inet, TableName, &protoSet, protoElements())
	for _, exprs := range countRules(f, d, ports, protos, set) {
		b.AddRule(inet, TableName, d.chain, exprs, nil, false)
	}
}

func lanElements(devices []string) [][]byte {
	out := make([][]byte, 0, len(devices))
	for _, d := range devices {
		out = append(out, nftwire.IfnameBytes(d))
	}
	return out
}

// hasElements reports whether the LAN set holds exactly want.
func hasElements(netns int, want [][]byte) (bool, error) {
	got, err := nft.ReadSetElements(netns, obsTable, obsSetLAN)
	if err != nil {
		return false, fmt.Errorf("read set %s of %s: %w", obsSetLAN, TableName, err)
	}
	if len(got) != len(want) {
		return false, nil
	}
	have := map[string]bool{}
	for _, e := range got {
		have[string(bytes.TrimRight(e.Key, "\x00"))] = true
	}
	for _, k := range want {
		if !have[string(bytes.TrimRight(k, "\x00"))] {
			return false, nil
		}
	}
	return true, nil
}

// Remove deletes the observer table; a missing table is not an error.
func (o Table) Remove() error {
	var b nftwire.Batch
	b.AddTable(inet, TableName)
	b.DelTable(inet, TableName)
	if err := b.SendIn(o.NetNS); err != nil {
		return fmt.Errorf("remove table inet %s: %w", TableName, err)
	}
	return nil
}

// Read returns every counter of the observer. A missing table reads as no
// entries with an error, so the agent can repair it.
func (o Table) Read() ([]vpn.ObserverEntry, error) {
	// One socket for the four dumps: this runs every judging tick.
	conn, err := nftwire.Dial(o.NetNS)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", TableName, err)
	}
	defer conn.Close()
	var out []vpn.ObserverEntry
	for _, f := range obsFamilies {
		for _, d := range obsDirs {
			// The kernel answers ENOENT for a missing table or set.
			elems, err := nft.ReadSetElementsOn(conn, obsTable, f.sets[d.set])
			if err != nil {
				return nil, fmt.Errorf("read set %s of %s: %w", f.sets[d.set], TableName, err)
			}
			for _, e := range elems {
				if entry, ok := parseEntry(f, d, e); ok {
					out = append(out, entry)
				}
			}
		}
	}
	return out, nil
}

// parseEntry decodes a key host . peer . proto . port (each field padded to
// 4 bytes). Addresses and ports are big-endian, as on the wire.
func parseEntry(f obsFamily, d obsDir, e nftwire.SetElement) (vpn.ObserverEntry, bool) {
	if len(e.Key) < f.keyLen {
		return vpn.ObserverEntry{}, false
	}
	n := int(f.addrLen)
	host, _ := netip.AddrFromSlice(e.Key[:n])
	peer, _ := netip.AddrFromSlice(e.Key[n : 2*n])
	port := uint16(e.Key[f.protoOff+4])<<8 | uint16(e.Key[f.protoOff+5])
	el, ok := vpn.ObserverElementOf(e.Key[f.protoOff], port)
	if !ok {
		return vpn.ObserverEntry{}, false
	}
	entry := vpn.ObserverEntry{Host: host, Peer: peer, Element: el, Direction: vpn.DirOut, Expires: e.Expires}
	switch d.chain {
	case obsChainIn:
		entry.Direction = vpn.DirIn
	case obsChainWAN:
		entry.Direction = vpn.DirWAN
	}
	if e.Counter != nil {
		entry.Packets, entry.Bytes = e.Counter.Packets, e.Counter.Bytes
	}
	return entry, true
}
