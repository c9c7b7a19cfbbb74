package truth

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/nfteval"
	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/vpn"
)

// RejectWait is how long a round of probes waits for the router's resets
// and unreachables (they come back in well under a millisecond here).
const RejectWait = 200 * time.Millisecond

// Host is a LAN host that sends probes.
type Host struct {
	Name        string
	Node        *lab.Node
	Addr, Addr6 netip.Addr
	MAC         net.HardwareAddr
}

// Rig is one lab router that rulesets are loaded into in turn, a sink at
// the servers, and the two LAN hosts.
type Rig struct {
	Lab   *lab.Lab
	Hosts []Host
	keys  []Key
}

// Inspect evaluates what the router's ruleset does to every footprint
// element (fw.EvaluateRuleset in the tests).
type Inspect func(rs *nfteval.Ruleset, lans []netip.Prefix) (map[vpn.Protocol]netfilter.ProtoStatus, error)

// New builds the rig: a single-NAT lab with IPv6, no ICMP rate limit at
// the router (every rejected probe must be answered), the sink at inet.
func New(t *testing.T) *Rig {
	lab.RequireBinaries(t, "nft", "conntrack")
	l := lab.New(t, lab.Config{Topology: lab.Single, IPv6: true})
	r := &Rig{Lab: l, keys: Keys()}
	if err := LoadText(t, l.Inet, SinkRuleset(r.keys)); err != nil {
		t.Fatalf("sink: %v", err)
	}
	for _, s := range [][2]string{{"net/ipv4/icmp_ratelimit", "0"}, {"net/ipv6/icmp/ratelimit", "0"}} {
		if err := l.Router.Sysctl(s[0], s[1]); err != nil {
			t.Fatal(err)
		}
	}
	r.Hosts = []Host{{"lan", l.LAN, lab.LANHost, lab.LANHost6, hostMAC(t, l.LAN)},
		{"lan2", l.LAN2, lab.LANHost2, lab.LANHost26, hostMAC(t, l.LAN2)}}
	return r
}

func hostMAC(t *testing.T, n *lab.Node) net.HardwareAddr {
	link, err := n.Netlink().LinkByName(lab.HostDevice)
	if err != nil {
		t.Fatal(err)
	}
	return link.Attrs().HardwareAddr
}

// LoadText loads a ruleset with nft -f inside a node.
func LoadText(t testing.TB, n *lab.Node, text string) error {
	f := filepath.Join(t.TempDir(), "ruleset.nft")
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		return err
	}
	_, err := n.Run("nft", "-f", f)
	return err
}

// Check replaces the router's ruleset with text, inspects it, sends every
// probe from each host and compares, per element, what status says for
// that host with what the kernel did. Wrong verdicts fail the test;
// uncertain ones are logged. The error is for a ruleset this kernel and
// nft do not load.
func (r *Rig) Check(t *testing.T, name, text string, inspect Inspect) (Tally, error) {
	t.Helper()
	var total Tally
	if _, err := r.Lab.Router.Run("nft", "flush", "ruleset"); err != nil {
		t.Fatal(err)
	}
	if err := LoadText(t, r.Lab.Router, text); err != nil {
		return total, err
	}
	rs, err := nfteval.Read(r.Lab.Router.Fd())
	if err != nil {
		t.Fatalf("%s: read: %v", name, err)
	}
	st, err := inspect(rs, []netip.Prefix{lab.LANPrefix, lab.LANPrefix6})
	if err != nil {
		t.Fatalf("%s: inspect: %v", name, err)
	}
	for _, h := range r.Hosts {
		// Each host starts afresh: two hosts' ESP or GRE to one server
		// clash in the masquerade (no ports to tell them apart).
		if out, err := r.Lab.Router.Run("conntrack", "-F"); err != nil {
			t.Fatalf("conntrack -F: %v\n%s", err, out)
		}
		kernel, err := KernelVerdicts(r.Lab, h.Node, r.keys, RejectWait)
		if err != nil {
			t.Fatalf("%s from %s: %v", name, h.Name, err)
		}
		for _, c := range compare(st, h, kernel) {
			total.add(c)
			if c.wrong() {
				t.Errorf("%s from %s: %s %s: inspection says %s, the kernel did %s (decided by %s)",
					name, h.Name, c.proto, c.key, c.said, c.did, deciderText(c.by))
			} else if c.said == netfilter.Uncertain {
				t.Logf("%s from %s: %s %s uncertain (kernel: %s; %s)", name, h.Name, c.proto, c.key, c.did, deciderText(c.by))
			}
		}
	}
	return total, nil
}

// Tally counts verdicts against the kernel, per family.
type Tally map[vpn.Family]*Count

// Count is right, uncertain and wrong verdicts.
type Count struct{ Right, Uncertain, Wrong int }

func (c Count) String() string {
	n := c.Right + c.Uncertain + c.Wrong
	if n == 0 {
		return "none"
	}
	return fmt.Sprintf("%d right, %d uncertain, %d wrong of %d (%.1f%% decided)",
		c.Right, c.Uncertain, c.Wrong, n, 100*float64(c.Right+c.Wrong)/float64(n))
}

// Decided is the share of decided verdicts, 1 when there are none.
func (c Count) Decided() float64 {
	n := c.Right + c.Uncertain + c.Wrong
	if n == 0 {
		return 1
	}
	return float64(c.Right+c.Wrong) / float64(n)
}

// Add sums another tally into t.
func (t *Tally) Add(u Tally) {
	if *t == nil {
		*t = Tally{}
	}
	for f, c := range u {
		if (*t)[f] == nil {
			(*t)[f] = &Count{}
		}
		(*t)[f].Right += c.Right
		(*t)[f].Uncertain += c.Uncertain
		(*t)[f].Wrong += c.Wrong
	}
}

func (t *Tally) add(c comparison) {
	if *t == nil {
		*t = Tally{}
	}
	if (*t)[c.fam] == nil {
		(*t)[c.fam] = &Count{}
	}
	n := (*t)[c.fam]
	switch {
	case c.said == netfilter.Uncertain:
		n.Uncertain++
	case c.wrong():
		n.Wrong++
	default:
		n.Right++
	}
}

// comparison is one element's verdict next to the kernel's.
type comparison struct {
	proto     vpn.Protocol
	key       Key
	fam       vpn.Family
	said, did netfilter.Verdict
	by        *netfilter.Decider
}

func (c comparison) wrong() bool { return c.said != netfilter.Uncertain && c.said != c.did }

// compare takes, for each element, what status says for host h (its
// exception, else the verdict for an arbitrary LAN host).
func compare(st map[vpn.Protocol]netfilter.ProtoStatus, h Host, kernel map[Key]netfilter.Verdict) []comparison {
	var out []comparison
	protos := make([]string, 0, len(st))
	for p := range st {
		protos = append(protos, string(p))
	}
	sort.Strings(protos)
	for _, p := range protos {
		for _, e := range st[vpn.Protocol(p)].Elements {
			src, dst := h.Addr, lab.Server
			if e.Family == vpn.IPv6 {
				src, dst = h.Addr6, lab.Server6
			}
			v, by := e.For(src, dst, h.MAC)
			k := KeyOf(e.Element)
			out = append(out, comparison{proto: vpn.Protocol(p), key: k, fam: e.Family, said: v, did: kernel[k], by: by})
		}
	}
	return out
}

func deciderText(d *netfilter.Decider) string {
	if d == nil {
		return "nothing"
	}
	s := d.Table + "/" + d.Chain
	if d.Comment != "" {
		s += " " + d.Comment
	}
	if d.Policy != "" {
		s += " policy " + d.Policy
	}
	return s
}
