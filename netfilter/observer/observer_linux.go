package observer

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/vpnpass/vpnpass/vpn"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
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

func (o Table) conn() (*nftables.Conn, error) {
	c, err := nftables.New(nftables.WithNetNSFd(o.NetNS))
	if err != nil {
		return nil, fmt.Errorf("open nftables connection: %w", err)
	}
	return c, nil
}

var obsTable = &nftables.Table{Family: nftables.TableFamilyINet, Name: TableName}

// Ensure makes the observer match: counting chains hooked at forward and
// output (priority -10, never a verdict), the four counting sets, and the
// set of LAN devices. If the table is intact only the LAN devices are
// replaced, so counters survive; otherwise the table is rebuilt. Either way
// in one atomic batch.
func (o Table) Ensure(lanDevices []string) error {
	c, err := o.conn()
	if err != nil {
		return err
	}
	intact, err := o.intact()
	if err != nil {
		return err
	}
	if intact {
		lan := &nftables.Set{Table: obsTable, Name: obsSetLAN, KeyType: nftables.TypeIFName}
		// Write nothing when nothing changed: every write of ours is a
		// ruleset event, the agent repairs on ruleset events, and a repair
		// ensures the observer: rewriting the set each time looped
		// (~18 rewrites/s, 87% CPU on a MIPS router).
		same, err := hasElements(c, lan, lanElements(lanDevices))
		if err != nil {
			return err
		}
		if same {
			return nil
		}
		c.FlushSet(lan)
		if err := c.SetAddElements(lan, lanElements(lanDevices)); err != nil {
			return fmt.Errorf("set LAN devices of %s: %w", TableName, err)
		}
	} else if err := build(c, lanDevices); err != nil {
		return err
	}
	if err := c.Flush(); err != nil {
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

// ourTable finds the observer's table in namespace netns (nil if absent).
func ourTable(netns int) (*nftables.Table, error) {
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
func build(c *nftables.Conn, lanDevices []string) error {
	c.AddTable(obsTable)
	c.DelTable(obsTable)
	t := c.AddTable(obsTable)
	// Interface names are strings, which nft keeps in host byte order: say
	// so, or `nft list` shows them reversed (empty).
	lan := &nftables.Set{Table: t, Name: obsSetLAN, KeyType: nftables.TypeIFName, KeyByteOrder: binaryutil.NativeEndian}
	if err := c.AddSet(lan, lanElements(lanDevices)); err != nil {
		return fmt.Errorf("add set %s: %w", obsSetLAN, err)
	}
	out := c.AddChain(&nftables.Chain{Name: obsChainOut, Table: t})
	in := c.AddChain(&nftables.Chain{Name: obsChainIn, Table: t})
	c.AddChain(&nftables.Chain{Name: obsChainWAN, Table: t})
	for _, d := range obsDirs {
		for _, f := range obsFamilies {
			if err := addCountRules(c, t, f, d); err != nil {
				return err
			}
		}
	}
	prio := nftables.ChainPriority(obsPriority)
	accept := nftables.ChainPolicyAccept
	fwd := c.AddChain(&nftables.Chain{Name: obsChainForward, Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: &prio, Policy: &accept})
	output := c.AddChain(&nftables.Chain{Name: obsChainOutput, Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookOutput, Priority: &prio, Policy: &accept})
	jump := func(ch *nftables.Chain, key expr.MetaKey, invert bool, to *nftables.Chain) {
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: []expr.Any{
			&expr.Meta{Key: key, Register: 1},
			&expr.Lookup{SourceRegister: 1, SetName: lan.Name, SetID: lan.ID, Invert: invert},
			&expr.Verdict{Kind: expr.VerdictJump, Chain: to.Name},
		}})
	}
	jump(fwd, expr.MetaKeyIIFNAME, false, out) // from the LAN: the host's requests
	jump(fwd, expr.MetaKeyOIFNAME, false, in)  // to the LAN: the servers' answers
	jump(output, expr.MetaKeyOIFNAME, true, out)
	addInboundHook(c, t, lan)
	return nil
}

func addCountRules(c *nftables.Conn, t *nftables.Table, f obsFamily, d obsDir) error {
	set := &nftables.Set{Table: t, Name: f.sets[d.set], KeyType: f.keyType(), Concatenation: true,
		Dynamic: true, HasTimeout: true, Timeout: Timeout * time.Second, Counter: true, Size: SetSize}
	if err := c.AddSet(set, nil); err != nil {
		return fmt.Errorf("add set %s: %w", set.Name, err)
	}
	portSet := &nftables.Set{Table: t, Anonymous: true, Constant: true, Concatenation: true,
		KeyType: nftables.MustConcatSetType(nftables.TypeInetProto, nftables.TypeInetService)}
	if err := c.AddSet(portSet, portElements()); err != nil {
		return fmt.Errorf("add port set for %s: %w", set.Name, err)
	}
	protoSet := &nftables.Set{Table: t, Anonymous: true, Constant: true, KeyType: nftables.TypeInetProto}
	if err := c.AddSet(protoSet, protoElements()); err != nil {
		return fmt.Errorf("add protocol set for %s: %w", set.Name, err)
	}
	chain := &nftables.Chain{Name: d.chain, Table: t}
	for _, exprs := range countRules(f, d, portSet, protoSet, set) {
		c.AddRule(&nftables.Rule{Table: t, Chain: chain, Exprs: exprs})
	}
	return nil
}

func lanElements(devices []string) []nftables.SetElement {
	out := make([]nftables.SetElement, 0, len(devices))
	for _, d := range devices {
		out = append(out, nftables.SetElement{Key: nftwire.IfnameBytes(d)})
	}
	return out
}

// hasElements reports whether set holds exactly want.
func hasElements(c *nftables.Conn, set *nftables.Set, want []nftables.SetElement) (bool, error) {
	got, err := nft.ReadSetElements(c.NetNS, set.Table, set.Name)
	if err != nil {
		return false, fmt.Errorf("read set %s of %s: %w", set.Name, TableName, err)
	}
	if len(got) != len(want) {
		return false, nil
	}
	have := map[string]bool{}
	for _, e := range got {
		have[string(bytes.TrimRight(e.Key, "\x00"))] = true
	}
	for _, e := range want {
		if !have[string(bytes.TrimRight(e.Key, "\x00"))] {
			return false, nil
		}
	}
	return true, nil
}

// Remove deletes the observer table; a missing table is not an error.
func (o Table) Remove() error {
	c, err := o.conn()
	if err != nil {
		return err
	}
	c.AddTable(obsTable)
	c.DelTable(obsTable)
	if err := c.Flush(); err != nil {
		return fmt.Errorf("remove table inet %s: %w", TableName, err)
	}
	return nil
}

// Read returns every counter of the observer. A missing table reads as no
// entries with an error, so the agent can repair it.
func (o Table) Read() ([]vpn.ObserverEntry, error) {
	var out []vpn.ObserverEntry
	for _, f := range obsFamilies {
		for _, d := range obsDirs {
			// The kernel answers ENOENT for a missing table or set.
			elems, err := nft.ReadSetElements(o.NetNS, obsTable, f.sets[d.set])
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
func parseEntry(f obsFamily, d obsDir, e nftables.SetElement) (vpn.ObserverEntry, bool) {
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
