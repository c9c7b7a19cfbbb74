package fw

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/nfteval"
	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/vpn"
)

// corpusDir holds the verdict corpus: our UCI firewall configs and what the
// real fw4 renders of them (test/openwrt's TestCorpusRendered keeps the
// renderings current).
const corpusDir = "../nfteval/testdata/corpus"

// rejectWait is how long a round of probes waits for the router's resets
// and unreachables (they come back in well under a millisecond here).
const rejectWait = 200 * time.Millisecond

// tally counts verdicts against the kernel, per family.
type tally struct{ right, uncertain, wrong int }

func (t tally) String() string {
	n := t.right + t.uncertain + t.wrong
	if n == 0 {
		return "none"
	}
	return fmt.Sprintf("%d right, %d uncertain, %d wrong of %d (%.1f%% decided)",
		t.right, t.uncertain, t.wrong, n, 100*float64(t.right+t.wrong)/float64(n))
}

// TestCorpusTruth loads every rendered corpus ruleset into one lab router,
// sends the first packet of every footprint element (UDP 500/4500/1701,
// TCP 1723, ESP, GRE; IPv4 and IPv6) from both LAN hosts, records what the
// kernel did (counted at the server: accept; a reset or ICMP unreachable
// seen by the host: reject; neither: drop) and compares every element of
// the inspection, as `status` reports it, with that truth.
func TestCorpusTruth(t *testing.T) {
	rulesets, err := filepath.Glob(filepath.Join(corpusDir, "*.nft"))
	if err != nil || len(rulesets) == 0 {
		t.Fatalf("no rendered corpus in %s: %v", corpusDir, err)
	}
	lab.RequireBinaries(t, "nft", "conntrack")
	l := lab.New(t, lab.Config{Topology: lab.Single, IPv6: true})
	keys := probeKeys()
	if err := loadText(t, l.Inet, sinkRuleset(keys)); err != nil {
		t.Fatalf("sink: %v", err)
	}
	// The router must answer every rejected probe: no ICMP rate limit.
	for _, s := range [][2]string{{"net/ipv4/icmp_ratelimit", "0"}, {"net/ipv6/icmp/ratelimit", "0"}} {
		if err := l.Router.Sysctl(s[0], s[1]); err != nil {
			t.Fatal(err)
		}
	}
	hosts := []truthHost{{"lan", l.LAN, lab.LANHost, lab.LANHost6, hostMAC(t, l.LAN)},
		{"lan2", l.LAN2, lab.LANHost2, lab.LANHost26, hostMAC(t, l.LAN2)}}
	total := map[vpn.Family]*tally{vpn.IPv4: {}, vpn.IPv6: {}}
	start := time.Now()
	for _, path := range rulesets {
		name := strings.TrimSuffix(filepath.Base(path), ".nft")
		if err := loadCorpus(t, l, path); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := corpusInspection(t, l, hosts)
		for _, h := range hosts {
			// Each host starts afresh: two hosts' ESP or GRE to one server
			// clash in the masquerade (no ports to tell them apart).
			if out, err := l.Router.Run("conntrack", "-F"); err != nil {
				t.Fatalf("conntrack -F: %v\n%s", err, out)
			}
			kernel, err := kernelVerdicts(l, h.node, keys, rejectWait)
			if err != nil {
				t.Fatalf("%s from %s: %v", name, h.name, err)
			}
			for _, c := range compare(got[h.name], kernel) {
				total[c.fam].add(c)
				if c.wrong() {
					t.Errorf("%s from %s: %s %s: inspection says %s, the kernel did %s (decided by %s)",
						name, h.name, c.proto, c.key, c.said, c.did, deciderText(c.by))
				} else if c.said == netfilter.Uncertain {
					t.Logf("%s from %s: %s %s uncertain (kernel: %s; %s)", name, h.name, c.proto, c.key, c.did, deciderText(c.by))
				}
			}
		}
	}
	t.Logf("%d rulesets in %v", len(rulesets), time.Since(start).Round(time.Millisecond))
	for _, f := range []vpn.Family{vpn.IPv4, vpn.IPv6} {
		t.Logf("%s: %s", f, total[f])
		if n := total[f].right + total[f].uncertain + total[f].wrong; n > 0 && 100*total[f].uncertain > 2*n {
			t.Errorf("%s: %d of %d elements uncertain: the target is at least 98%% decided", f, total[f].uncertain, n)
		}
	}
}

type truthHost struct {
	name        string
	node        *lab.Node
	addr, addr6 netip.Addr
	mac         net.HardwareAddr
}

func hostMAC(t *testing.T, n *lab.Node) net.HardwareAddr {
	link, err := n.Netlink().LinkByName(lab.HostDevice)
	if err != nil {
		t.Fatal(err)
	}
	return link.Attrs().HardwareAddr
}

// comparison is one element's verdict next to the kernel's.
type comparison struct {
	proto     vpn.Protocol
	key       probeKey
	fam       vpn.Family
	said, did netfilter.Verdict
	by        *netfilter.Decider
}

func (c comparison) wrong() bool { return c.said != netfilter.Uncertain && c.said != c.did }

func (t *tally) add(c comparison) {
	switch {
	case c.said == netfilter.Uncertain:
		t.uncertain++
	case c.wrong():
		t.wrong++
	default:
		t.right++
	}
}

func compare(st map[vpn.Protocol]netfilter.ProtoStatus, kernel map[probeKey]netfilter.Verdict) []comparison {
	var out []comparison
	protos := make([]string, 0, len(st))
	for p := range st {
		protos = append(protos, string(p))
	}
	sort.Strings(protos)
	for _, p := range protos {
		for _, e := range st[vpn.Protocol(p)].Elements {
			k := keyOf(e.Element)
			out = append(out, comparison{proto: vpn.Protocol(p), key: k, fam: e.Family, said: e.Verdict, did: kernel[k], by: e.DecidedBy})
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

// corpusInspection reads the router's ruleset over netlink and evaluates
// every protocol's footprint as `status` does, per LAN host.
func corpusInspection(t *testing.T, l *lab.Lab, hosts []truthHost) map[string]map[vpn.Protocol]netfilter.ProtoStatus {
	t.Helper()
	conn, err := nftables.New(nftables.WithNetNSFd(l.Router.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := nfteval.Read(conn)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	hk := Hooks{Values: map[vpn.Family][]netfilter.HostValue{}}
	if hk.Forward, err = nftChains(rs, "forward"); err != nil {
		t.Fatal(err)
	}
	if hk.Prerouting, err = nftChains(rs, "prerouting"); err != nil {
		t.Fatal(err)
	}
	for _, fam := range []vpn.Family{vpn.IPv4, vpn.IPv6} {
		hk.Values[fam] = rs.HostValues(fam)
	}
	o := InspectOptions{LANDevices: []string{lab.LANDevice}, WANDevice: l.WANDevice,
		LANPrefixes: []netip.Prefix{lab.LANPrefix, lab.LANPrefix6}}
	st := evaluateHooks(hk, o)
	out := map[string]map[vpn.Protocol]netfilter.ProtoStatus{}
	for _, h := range hosts {
		// What status says for this host: its exception, else the verdict
		// for an arbitrary LAN host.
		resolved := map[vpn.Protocol]netfilter.ProtoStatus{}
		for p, ps := range st {
			els := make([]netfilter.ElementStatus, len(ps.Elements))
			for i, e := range ps.Elements {
				src, dst := h.addr, lab.Server
				if e.Family == vpn.IPv6 {
					src, dst = h.addr6, lab.Server6
				}
				e.Verdict, e.DecidedBy = e.For(src, dst, h.mac)
				els[i] = e
			}
			ps.Elements = els
			resolved[p] = ps
		}
		out[h.name] = resolved
	}
	return out
}

// loadCorpus replaces the router's ruleset with a rendered corpus ruleset
// and forgets every connection the previous one saw. The includes point
// into testdata (the corpus' user include) and at an empty directory
// (/etc/nftables.d).
func loadCorpus(t *testing.T, l *lab.Lab, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(corpusDir)
	if err != nil {
		return err
	}
	text := strings.ReplaceAll(string(b), `"/etc/nftables.d/*.nft"`, fmt.Sprintf("%q", filepath.Join(t.TempDir(), "*.nft")))
	text = strings.ReplaceAll(text, "/etc/vpnpass-corpus/", abs+"/")
	if _, err := l.Router.Run("nft", "flush", "ruleset"); err != nil {
		return err
	}
	return loadText(t, l.Router, text)
}

func loadText(t *testing.T, n *lab.Node, text string) error {
	f := filepath.Join(t.TempDir(), "ruleset.nft")
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		return err
	}
	_, err := n.Run("nft", "-f", f)
	return err
}
