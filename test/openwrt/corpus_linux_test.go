package openwrt

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/test/lab"
)

var update = flag.Bool("update", false, "rewrite the rendered corpus rulesets in netfilter/nfteval/testdata/corpus")

// corpusInclude is where 35-include.uci expects its user include.
const corpusInclude = "etc/vpnpass-corpus/forward-pre.inc"

// TestCorpusRendered renders every UCI firewall config of the verdict corpus
// (netfilter/nfteval/testdata/corpus/*.uci) with the real firewall4 (`fw4
// print`) and fails when a kept rendering (NAME.nft) differs: the truth test
// in `make test` loads those renderings, so they must be what fw4 makes of
// our configs today. -update rewrites them.
func TestCorpusRendered(t *testing.T) {
	Userland(t)
	dir := filepath.Join(RepoRoot(t), "netfilter", "nfteval", "testdata", "corpus")
	configs, err := filepath.Glob(filepath.Join(dir, "*.uci"))
	if err != nil || len(configs) == 0 {
		t.Fatalf("no corpus configs in %s: %v", dir, err)
	}
	include, err := os.ReadFile(filepath.Join(dir, "forward-pre.inc"))
	must(t, err)
	l := lab.New(t, lab.Config{Topology: lab.Single})
	r := NewRouter(t, l, map[string]string{corpusInclude: string(include)})
	r.StartUbus()
	r.InstallFW4("")
	stale := 0
	for _, cfg := range configs {
		text, err := os.ReadFile(cfg)
		must(t, err)
		if _, err := r.Run(string(text), "sh", "-c", "cat > /etc/config/firewall"); err != nil {
			t.Fatalf("install %s: %v", cfg, err)
		}
		out, err := r.FW4("print")
		if err != nil {
			t.Errorf("fw4 print %s: %v\n%s", filepath.Base(cfg), err, out)
			continue
		}
		name := strings.TrimSuffix(cfg, ".uci") + ".nft"
		kept, _ := os.ReadFile(name)
		if bytes.Equal(kept, out) {
			continue
		}
		if *update {
			must(t, os.WriteFile(name, out, 0o644))
			t.Logf("rewrote %s", filepath.Base(name))
			continue
		}
		stale++
		t.Errorf("%s is stale: fw4 renders %s differently (run with -update)", filepath.Base(name), filepath.Base(cfg))
	}
	t.Logf("%d configs rendered, %d stale", len(configs), stale)
}
