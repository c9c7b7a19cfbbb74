package fw

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/test/lab"
)

// TestDetectReadsCtOriginal: a foreign table whose forward rules use
// `ct original ...` is detected, and its drop seen. google/nftables'
// GetRules failed on such a chain (it reads NFTA_CT_DIRECTION as a u32, the
// kernel sends a u8), and Detect failed with it; nftwire.Rules decodes
// each expression on its own.
func TestDetectReadsCtOriginal(t *testing.T) {
	lab.Require(t)
	lab.RequireBinaries(t, "nft")
	f := filepath.Join(t.TempDir(), "ruleset.nft")
	ruleset := "table inet foreign {\n\tchain forward_x {\n\t\ttype filter hook forward priority 0;\n" +
		"\t\tct original ip saddr 192.0.2.1 drop\n\t}\n}\n"
	if err := os.WriteFile(f, []byte(ruleset), 0o600); err != nil {
		t.Fatal(err)
	}
	type result struct {
		d   Detection
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies in the new namespace
		var r result
		h, err := netns.New()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer h.Close()
		if r.out, r.err = exec.Command("nft", "-f", f).CombinedOutput(); r.err == nil {
			r.d, r.err = Detect()
		}
		done <- r
	}()
	r := <-done
	if r.err != nil {
		t.Fatalf("Detect: %v\n%s", r.err, r.out)
	}
	if len(r.d.Hookers) != 1 || r.d.Hookers[0].Table != "inet foreign" || r.d.Hookers[0].Kind != netfilter.KindNftables ||
		!r.d.Hookers[0].Drops {
		t.Fatalf("Detect: %+v", r.d)
	}
}
