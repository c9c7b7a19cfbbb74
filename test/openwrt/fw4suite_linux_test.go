package openwrt

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/fw"
	"github.com/vpnpass/vpnpass/netfilter/nfteval"
	"github.com/vpnpass/vpnpass/test/truth"
	"github.com/vpnpass/vpnpass/vpn"
)

// fw4TestsEnv names firewall4's own test suite (tests/ of its source);
// by default it is next to the userland root, where the build keeps the
// sources (../src/firewall4/tests).
const fw4TestsEnv = "VPNPASS_FW4_TESTS"

var (
	expectBlock = regexp.MustCompile(`(?s)-- Expect stdout --\n(table inet fw4\n.*?)\n-- End --`)
	flowtable   = regexp.MustCompile(`(?s)\tflowtable ft \{.*?\n\t\}\n`)
	includeLine = regexp.MustCompile(`(?m)^\s*include ".*"\s*$`)
	helperObj   = regexp.MustCompile(`(?s)\tct helper (\S+) \{\n\t\ttype "([^"]+)".*?\n\t\}\n`)
)

// TestFW4SuiteTruth is the second verdict corpus: every ruleset firewall4's
// own test suite expects fw4 to render (its files stay out of this
// repository and are read from the build's cache), loaded into a lab router
// and checked element by element against real packets, as TestCorpusTruth
// does for our corpus. Edits for this kernel: the flowtable and `flow
// offload` rules are dropped (no flowtables here; offload never decides a
// new packet), includes are dropped (the files are the suite's mocks), and
// so are the ct helpers this kernel lacks and the rules that use them.
func TestFW4SuiteTruth(t *testing.T) {
	root := os.Getenv(rootEnv)
	if root == "" {
		t.Skipf("%s is unset: runs under `make test-openwrt`", rootEnv)
	}
	dir := os.Getenv(fw4TestsEnv)
	if dir == "" {
		dir = filepath.Join(root, "..", "src", "firewall4", "tests")
	}
	rulesets := fw4SuiteRulesets(t, dir)
	if len(rulesets) == 0 {
		t.Fatalf("no rendered rulesets in firewall4's test suite at %s (set %s)", dir, fw4TestsEnv)
	}
	rig := truth.New(t)
	var total truth.Tally
	names := make([]string, 0, len(rulesets))
	for n := range rulesets {
		names = append(names, n)
	}
	sort.Strings(names)
	skipped := 0
	for _, n := range names {
		c, err := rig.Check(t, n, rulesets[n], suiteInspect)
		if err != nil {
			// Some expected renderings are not valid nft (a port mapping
			// without a transport protocol match): the suite compares text.
			t.Logf("%s: skipped, nft does not load it: %.200v", n, err)
			skipped++
			continue
		}
		total.Add(c)
	}
	t.Logf("%d rulesets from %s, %d of them not loadable", len(rulesets), dir, skipped)
	for _, f := range []vpn.Family{vpn.IPv4, vpn.IPv6} {
		if c := total[f]; c != nil {
			t.Logf("%s: %s", f, c)
		}
	}
}

func suiteInspect(rs *nfteval.Ruleset, lans []netip.Prefix) (map[vpn.Protocol]netfilter.ProtoStatus, error) {
	return fw.EvaluateRuleset(rs, fw.InspectOptions{LANDevices: []string{"br-lan"}, WANDevice: "eth1", LANPrefixes: lans})
}

// fw4SuiteRulesets reads every expected fw4 rendering of the suite's test
// cases, edited to load here.
func fw4SuiteRulesets(t *testing.T, dir string) map[string]string {
	files, _ := filepath.Glob(filepath.Join(dir, "[0-9]*", "*"))
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range expectBlock.FindAllStringSubmatch(string(b), -1) {
			name := fmt.Sprintf("%s/%s#%d", filepath.Base(filepath.Dir(f)), filepath.Base(f), i+1)
			out[name] = editForLab(m[1])
		}
	}
	return out
}

// editForLab drops what this kernel cannot load (see TestFW4SuiteTruth).
func editForLab(s string) string {
	s = flowtable.ReplaceAllString(s, "")
	s = includeLine.ReplaceAllString(s, "")
	var gone []string
	s = helperObj.ReplaceAllStringFunc(s, func(obj string) string {
		m := helperObj.FindStringSubmatch(obj)
		if _, err := os.Stat("/sys/module/nf_conntrack_" + strings.ToLower(strings.ReplaceAll(m[2], "-", "_"))); err == nil {
			return obj
		}
		gone = append(gone, m[1])
		return ""
	})
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		drop := strings.Contains(line, "flow offload @")
		for _, h := range gone {
			drop = drop || strings.Contains(line, `ct helper set "`+h+`"`)
		}
		if !drop {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}
