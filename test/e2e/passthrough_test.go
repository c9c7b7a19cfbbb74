package e2e

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/test/lab"
	"github.com/vpnpass/vpnpass/test/peers/pptppeer"
)

type protoJSON struct {
	Mode     string `json:"mode"`
	Verdict  string `json:"verdict"`
	Drift    bool   `json:"drift"`
	Elements []struct {
		Match     string `json:"match"`
		Family    string `json:"family"`
		Verdict   string `json:"verdict"`
		Replies   string `json:"replies"`
		DecidedBy struct {
			Table   string `json:"table"`
			Chain   string `json:"chain"`
			Policy  string `json:"policy"`
			Comment string `json:"comment"`
		} `json:"decided_by"`
	} `json:"elements"`
}

type fullStatus struct {
	Backend struct {
		Kind string   `json:"kind"`
		Also []string `json:"also"`
	} `json:"backend"`
	Protocols map[string]protoJSON `json:"protocols"`
}

// direct runs a vpnpass command in the router without a daemon.
func direct(t *testing.T, l *lab.Lab, cfg string, args ...string) []byte {
	t.Helper()
	out, err := l.Router.Run(vpnpassBin, append(args, "--direct", "--config", cfg)...)
	if err != nil {
		t.Fatalf("vpnpass %v: %v\n%s", args, err, out)
	}
	return out
}

func statusOf(t *testing.T, l *lab.Lab, cfg string) fullStatus {
	t.Helper()
	var st fullStatus
	out := direct(t, l, cfg, "status", "--json")
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, out)
	}
	return st
}

// element finds the IPv4 element of a protocol.
func element(t *testing.T, st fullStatus, proto, match string) (verdict, table, chain, policy string) {
	t.Helper()
	for _, e := range st.Protocols[proto].Elements {
		if e.Match == match && e.Family == "ipv4" {
			return e.Verdict, e.DecidedBy.Table, e.DecidedBy.Chain, e.DecidedBy.Policy
		}
	}
	t.Fatalf("status has no ipv4 %s element for %s", match, proto)
	return
}

// foreignRuleset lists everything except vpnpass's own objects, for the
// "disable restores the foreign ruleset exactly" comparison.
func foreignRuleset(t *testing.T, l *lab.Lab) string {
	t.Helper()
	var b strings.Builder
	// Stateless listings: counters change with the test's own traffic.
	if out, err := l.Nft("-s", "list", "ruleset"); err == nil {
		b.Write(out)
	}
	for _, v := range []string{"legacy", "nft"} {
		for _, table := range []string{"filter", "raw", "nat"} {
			out, _ := l.Router.Run("iptables-"+v+"-save", "-t", table)
			for _, line := range strings.Split(string(out), "\n") {
				if !strings.HasPrefix(line, "#") { // timestamps
					b.WriteString(chainCounters.ReplaceAllString(line, "[]") + "\n")
				}
			}
		}
	}
	return b.String()
}

func TestPassthroughPerFirewall(t *testing.T) {
	tests := []struct {
		fw               lab.Firewall
		backend, verdict string
		table, chain     string
		policy           string
	}{
		{lab.FW4Locked, "fw4", "reject", "fw4", "handle_reject", ""},
		{lab.NftablesDrop, "nftables", "drop", "filter", "forward", "drop"},
		{lab.IptablesLegacyDrop, "iptables-legacy", "drop", "filter", "FORWARD", "drop"},
		{lab.IptablesNftDrop, "iptables-nft", "drop", "filter", "FORWARD", "drop"},
		{lab.FW3Locked, "fw3", "reject", "filter", "reject", ""},
	}
	for _, tc := range tests {
		t.Run(string(tc.fw), func(t *testing.T) {
			l := lab.New(t, lab.Config{Topology: lab.Double, Firewalls: []lab.Firewall{tc.fw}})
			serveUDP(t, l, 500, 4500, 1701)
			cfg := writeDirectConfig(t)
			before := foreignRuleset(t, l)

			for _, port := range []uint16{500, 4500, 1701} {
				if udpPasses(t, l, port) {
					t.Fatalf("UDP %d passes before allow", port)
				}
			}
			st := statusOf(t, l, cfg)
			if st.Backend.Kind != tc.backend {
				t.Errorf("backend %s, want %s", st.Backend.Kind, tc.backend)
			}
			v, table, chain, policy := element(t, st, "ipsec", "udp/500")
			if v != tc.verdict || table != tc.table || chain != tc.chain || policy != tc.policy {
				t.Errorf("ipsec udp/500 before allow: %s by %s/%s policy %q; want %s by %s/%s policy %q",
					v, table, chain, policy, tc.verdict, tc.table, tc.chain, tc.policy)
			}

			direct(t, l, cfg, "enable", "ipsec")
			direct(t, l, cfg, "enable", "l2tp")
			for _, port := range []uint16{500, 4500, 1701} {
				if !udpPasses(t, l, port) {
					t.Errorf("UDP %d does not pass after enable", port)
				}
			}
			st = statusOf(t, l, cfg)
			for _, p := range []string{"ipsec", "l2tp"} {
				if ps := st.Protocols[p]; ps.Verdict != "accept" || ps.Mode != "allow" || ps.Drift {
					t.Errorf("%s after enable: mode %s verdict %s drift %v; want allow/accept/no drift", p, ps.Mode, ps.Verdict, ps.Drift)
				}
			}
			for _, e := range st.Protocols["ipsec"].Elements {
				if e.Family == "ipv4" && e.Replies != "accept" {
					t.Errorf("ipsec %s after enable: answers get %q, want accept", e.Match, e.Replies)
				}
			}

			direct(t, l, cfg, "disable", "ipsec")
			direct(t, l, cfg, "disable", "l2tp")
			if after := foreignRuleset(t, l); after != before {
				t.Errorf("disable did not restore the foreign ruleset exactly:\n%s", lineDiff(before, after))
			}
		})
	}
}

func TestBlockStopsWhatTheFirewallAllowed(t *testing.T) {
	for _, fw := range []lab.Firewall{lab.FW4, lab.IptablesLegacyDrop} {
		t.Run(string(fw), func(t *testing.T) {
			l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{fw}})
			serveUDP(t, l, 1701)
			cfg := writeDirectConfig(t)
			if fw == lab.IptablesLegacyDrop {
				// A permissive rule for L2TP that the block must override.
				if out, err := l.Iptables("legacy", "-I", "FORWARD", "-p", "udp", "--dport", "1701", "-j", "ACCEPT"); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
			}
			if !udpPasses(t, l, 1701) {
				t.Fatal("the foreign firewall should allow L2TP here")
			}
			direct(t, l, cfg, "block", "l2tp")
			if udpPasses(t, l, 1701) {
				t.Fatal("L2TP still passes after block")
			}
			v, _, _, _ := element(t, statusOf(t, l, cfg), "l2tp", "udp/1701")
			if v != "drop" {
				t.Errorf("status says l2tp %s after block, want drop", v)
			}
			direct(t, l, cfg, "disable", "l2tp")
			if !udpPasses(t, l, 1701) {
				t.Fatal("L2TP blocked after disable")
			}
		})
	}
}

func TestAllowBesideSecondFirewall(t *testing.T) {
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FW4Locked, lab.IptablesNftDrop}})
	serveUDP(t, l, 500)
	cfg := writeDirectConfig(t)
	direct(t, l, cfg, "enable", "ipsec")
	if !udpPasses(t, l, 500) {
		t.Fatal("IKE blocked by the second firewall after enable")
	}
	st := statusOf(t, l, cfg)
	if st.Backend.Kind != "fw4" || len(st.Backend.Also) != 1 || st.Backend.Also[0] != "iptables-nft" {
		t.Errorf("backend %+v, want fw4 also iptables-nft", st.Backend)
	}
	if ps := st.Protocols["ipsec"]; ps.Verdict != "accept" {
		t.Errorf("ipsec verdict %s, want accept through both firewalls", ps.Verdict)
	}
}

// TestPPTPThroughNAT runs a PPTP call (control on TCP 1723 with call IDs,
// then GRE both ways) through the router's NAT on a drop-policy firewall.
func TestPPTPThroughNAT(t *testing.T) {
	for _, fw := range []lab.Firewall{lab.NftablesDrop, lab.IptablesLegacyDrop, lab.FW4Locked} {
		t.Run(string(fw), func(t *testing.T) {
			l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{fw}})
			cfg := writeDirectConfig(t)
			var srv *pptppeer.Server
			if err := l.Inet.Do(func() (err error) { srv, err = pptppeer.Listen(lab.Server); return }); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Close)

			if got, err := pptpCall(l, 0x1234); err == nil && got > 0 {
				t.Fatalf("PPTP passed with mode default on a drop-policy firewall (%d GRE replies)", got)
			}
			direct(t, l, cfg, "enable", "pptp")
			var st statusJSON
			if err := json.Unmarshal(direct(t, l, cfg, "status", "--json"), &st); err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(st.Helpers["pptp"].AssignedBy, "vpnpass") {
				t.Errorf("after enable pptp, assigned_by = %v, want vpnpass among them", st.Helpers["pptp"].AssignedBy)
			}
			got, err := pptpCall(l, 0x2345)
			if err != nil {
				t.Fatal(err)
			}
			if got != 3 {
				t.Fatalf("client got %d of 3 GRE replies with pptp allow", got)
			}
			if in := srv.GREIn.Load(); in < 3 {
				t.Errorf("server saw %d GRE packets, want 3", in)
			}
		})
	}
}

// pptpCall runs one call from the LAN client and returns the GRE replies
// received. While the call is up the router must hold the GRE expectation.
func pptpCall(l *lab.Lab, callID uint16) (int, error) {
	var c *pptppeer.Client
	if err := l.LAN.Do(func() (err error) {
		c, err = pptppeer.Dial(lab.LANHost, lab.Server, callID, time.Second)
		return
	}); err != nil {
		return 0, err
	}
	defer c.Close()
	if err := c.Handshake(2 * time.Second); err != nil {
		return 0, err
	}
	out, err := l.Router.Run("conntrack", "-L", "expect")
	if err != nil || !strings.Contains(string(out), "proto=47") {
		return 0, errNoExpectation(string(out))
	}
	return c.ExchangeGRE(3, 2*time.Second)
}

type errNoExpectation string

func (e errNoExpectation) Error() string {
	return "the router holds no GRE expectation during the call:\n" + string(e)
}

func writeDirectConfig(t *testing.T) string {
	t.Helper()
	a := &agentRun{dir: t.TempDir()}
	a.config = a.dir + "/vpnpass"
	a.writeConfig(t)
	return a.config
}

// chainCounters are iptables-save's policy counters, [packets:bytes].
var chainCounters = regexp.MustCompile(`\[\d+:\d+\]`)

// lineDiff lists the lines only in a (-) or only in b (+).
func lineDiff(a, b string) string {
	count := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(b, "\n") {
		count[l]--
	}
	var out strings.Builder
	for l, n := range count {
		for ; n > 0; n-- {
			out.WriteString("- " + l + "\n")
		}
		for ; n < 0; n++ {
			out.WriteString("+ " + l + "\n")
		}
	}
	return out.String()
}
