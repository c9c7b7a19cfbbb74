package fw

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/nfteval"
	"github.com/vpnpass/vpnpass/test/truth"
	"github.com/vpnpass/vpnpass/vpn"
)

// corpusDir holds the verdict corpus: our UCI firewall configs and what the
// real fw4 renders of them (test/openwrt's TestCorpusRendered keeps the
// renderings current).
const corpusDir = "../nfteval/testdata/corpus"

// TestCorpusTruth loads every rendered corpus ruleset into one lab router
// and compares every element of the inspection, as `status` reports it for
// each LAN host, with what the kernel does to real packets (test/truth).
// The target: nothing wrong, at least 98% decided, per family.
func TestCorpusTruth(t *testing.T) {
	rulesets, err := filepath.Glob(filepath.Join(corpusDir, "*.nft"))
	if err != nil || len(rulesets) == 0 {
		t.Fatalf("no rendered corpus in %s: %v", corpusDir, err)
	}
	rig := truth.New(t)
	abs, err := filepath.Abs(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	var total truth.Tally
	start := time.Now()
	for _, path := range rulesets {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// The includes point into testdata (the corpus' user include) and
		// at an empty directory (/etc/nftables.d).
		text := strings.ReplaceAll(string(b), `"/etc/nftables.d/*.nft"`, fmt.Sprintf("%q", filepath.Join(t.TempDir(), "*.nft")))
		text = strings.ReplaceAll(text, "/etc/vpnpass-corpus/", abs+"/")
		n, err := rig.Check(t, strings.TrimSuffix(filepath.Base(path), ".nft"), text, corpusInspect)
		if err != nil {
			t.Fatalf("%s does not load: %v", path, err)
		}
		total.Add(n)
	}
	t.Logf("%d rulesets in %v", len(rulesets), time.Since(start).Round(time.Millisecond))
	for _, f := range []vpn.Family{vpn.IPv4, vpn.IPv6} {
		c := total[f]
		if c == nil {
			t.Fatalf("%s: nothing compared", f)
		}
		t.Logf("%s: %s", f, c)
		if c.Decided() < 0.98 {
			t.Errorf("%s: %.1f%% decided: the target is at least 98%%", f, 100*c.Decided())
		}
	}
}

// corpusInspect is the inspection `status` runs, for the lab's devices.
func corpusInspect(rs *nfteval.Ruleset, lans []netip.Prefix) (map[vpn.Protocol]netfilter.ProtoStatus, error) {
	return EvaluateRuleset(rs, InspectOptions{LANDevices: []string{"br-lan"}, WANDevice: "eth1", LANPrefixes: lans})
}
