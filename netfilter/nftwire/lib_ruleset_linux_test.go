package nftwire

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vpnpass/vpnpass/test/lab"
)

// everyExprRuleset has a rule for every expression nft 1.0 makes that the
// fast path does not decode (but queue, flow offload, socket, tproxy and
// synproxy, whose modules this kernel lacks: TestSlowDecodeEveryName has
// them).
const everyExprRuleset = `table ip d {
	chain c { type filter hook prerouting priority 0;
		ip saddr 10.1.0.1 dup to 10.2.0.1 device "lo"
	}
}
table inet e {
	set seen { type ipv4_addr; flags dynamic,timeout; timeout 1m; }
	set meter4 { type ipv4_addr; size 65535; flags dynamic; }
	ct helper pptp { type "pptp" protocol tcp; l3proto inet; }
	counter cnt { }
	quota q { over 1 mbytes }
	chain c { type filter hook forward priority 0;
		log prefix "x " level info flags all
		log group 2 snaplen 100 queue-threshold 3
		limit rate 5/second burst 7 packets
		limit rate over 1 mbytes/hour
		quota over 100 bytes used 5 bytes
		ct count over 3
		add @seen { ip saddr timeout 30s }
		update @meter4 { ip saddr counter } accept
		tcp option maxseg size 1400
		ip6 nexthdr ipv6-frag exthdr frag exists
		fib daddr type local drop
		fib saddr . iif oif missing drop
		ip daddr 10.0.0.1 ip protocol tcp tcp dport 1000-2000 reject with tcp reset
		reject with icmpx admin-prohibited
		ct helper set "pptp"
		counter name "cnt"
		quota name "q"
		ip saddr 1.1.1.1 notrack
		jhash ip saddr mod 2 seed 0xdead offset 1 == 0 accept
		numgen inc mod 4 offset 2 == 0 accept
		numgen random mod 2 == 1 accept
		meta mark set tcp dport map { 22 : 1, 23 : 2 }
		rt mtu 1400 accept
		ipsec in reqid 1 accept
		ip dscp cs1 accept
		meta mark set meta mark lshift 1
		ct original ip saddr 192.0.2.1 accept
	}
	chain n { type nat hook postrouting priority 100;
		oifname "lo" masquerade random,persistent
		oifname "lo" meta l4proto tcp masquerade to :1000-2000
		ip daddr 10.0.0.2 tcp dport 1 snat ip to 10.0.0.1-10.0.0.5:100-200 fully-random
		ip daddr 10.0.0.3 snat ip prefix to 10.0.0.0/24
	}
	chain p { type nat hook prerouting priority -100;
		tcp dport 81 redirect to :8080
		tcp dport 82 redirect
		ip6 daddr ::1 tcp dport 1 dnat ip6 to [::2]:80
		dnat ip to ip daddr map { 10.0.0.1 : 10.0.0.2 }
	}
}
`

// iptRules are iptables-nft rules: xtables match and target expressions.
var iptRules = [][]string{
	{"-A", "FORWARD", "-m", "comment", "--comment", "vpnpass:test", "-j", "ACCEPT"},
	{"-A", "FORWARD", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"},
	{"-A", "FORWARD", "-p", "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j", "TCPMSS", "--clamp-mss-to-pmtu"},
	{"-A", "FORWARD", "-p", "udp", "--dport", "500", "-j", "REJECT", "--reject-with", "icmp-port-unreachable"},
	{"-A", "FORWARD", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "DROP"},
	{"-A", "FORWARD", "-m", "limit", "--limit", "5/s", "-j", "LOG", "--log-prefix", "x"},
	{"-t", "nat", "-A", "POSTROUTING", "-o", "lo", "-j", "MASQUERADE"},
	{"-t", "nat", "-A", "PREROUTING", "-p", "tcp", "--dport", "80", "-j", "DNAT", "--to-destination", "10.0.0.1:8080"},
	{"-t", "nat", "-A", "PREROUTING", "-p", "tcp", "--dport", "81", "-j", "REDIRECT", "--to-ports", "8080"},
	{"-t", "nat", "-A", "POSTROUTING", "-o", "lo", "-j", "SNAT", "--to-source", "10.0.0.9"},
}

// TestDecodeMatchesLibrary decodes every expression of real rulesets (every
// expression nft makes, iptables-nft's xtables rules, the fw4 corpus of
// netfilter/nfteval) with our decoders and with the library's, and
// requires the same values wherever the library decodes at all.
func TestDecodeMatchesLibrary(t *testing.T) {
	lab.Require(t)
	rulesets := map[string]string{"every": everyExprRuleset, "wire": wireRuleset}
	corpus, err := filepath.Abs("../nfteval/testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(corpus, "*.nft"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Includes as netfilter/fw's TestCorpusTruth resolves them.
		text := strings.ReplaceAll(string(b), `"/etc/nftables.d/*.nft"`, strconv.Quote(filepath.Join(t.TempDir(), "*.nft")))
		rulesets[filepath.Base(f)] = strings.ReplaceAll(text, "/etc/vpnpass-corpus/", corpus+"/")
	}
	compared := map[string]int{}
	for _, rs := range rulesets {
		eachExpr(t, loadNS(t, rs), func(fam byte, name string, data []byte) {
			compare(t, fam, name, data, compared)
		})
	}
	c := loadIptables(t)
	eachExpr(t, c, func(fam byte, name string, data []byte) { compare(t, fam, name, data, compared) })
	for _, name := range []string{"log", "limit", "quota", "connlimit", "dynset", "exthdr", "fib", "reject",
		"objref", "notrack", "hash", "numgen", "masq", "nat", "redir",
		"match", "target"} {
		if compared[name] == 0 {
			t.Errorf("no %s expression compared (%v)", name, compared)
		}
	}
	t.Logf("compared: %v", compared)
}

func compare(t *testing.T, fam byte, name string, data []byte, compared map[string]int) {
	t.Helper()
	ours, lib := decodeExpr(fam, name, data), libDecodeExpr(fam, name, data)
	if _, failed := lib.(*Opaque); failed {
		if _, o := ours.(*Opaque); !o && name != "ct" && name != "dynset" {
			t.Logf("%s: the library failed, we decode %#v", name, ours)
		}
		return
	}
	if !sameAsLibrary(fam, ours, lib) {
		t.Errorf("%s: ours %#v, library %#v", name, ours, lib)
	}
	compared[name]++
}

// loadIptables makes a namespace holding the iptables-nft rules.
func loadIptables(t *testing.T) *netlink.Conn {
	t.Helper()
	lab.RequireBinaries(t, "iptables-nft")
	done := make(chan error, 1)
	var h netns.NsHandle
	var out []byte
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies in the new namespace
		var err error
		if h, err = netns.New(); err != nil {
			done <- err
			return
		}
		for _, args := range iptRules {
			if out, err = exec.Command("iptables-nft", args...).CombinedOutput(); err != nil {
				break
			}
		}
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatalf("namespace with iptables-nft rules: %v\n%s", err, out)
	}
	t.Cleanup(func() { h.Close() })
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: int(h)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
