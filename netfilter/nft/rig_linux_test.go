package nft

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/nftables"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/netfilter/nftwire"
	"github.com/vpnpass/vpnpass/test/lab"
)

// rig is a lab router with a Backend talking to its namespace.
type rig struct {
	t    testing.TB
	l    *lab.Lab
	b    *Backend
	root string
	conn *nftables.Conn
}

type rigConfig struct {
	lab          lab.Config
	kind         netfilter.Kind
	autoIncludes bool
	include      bool // render fw4's chain-pre include of our symlink directory
	lan          []string
	// tmpfsRoot puts Root on tmpfs, as /var/run is on OpenWrt (fsync on
	// the test machine's disk would dominate timings).
	tmpfsRoot bool
}

func tmpfsDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "vpnpass-nft-")
	if err != nil {
		t.Skipf("no tmpfs at /dev/shm: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func newRig(t testing.TB, rc rigConfig) *rig {
	t.Helper()
	root := t.TempDir()
	if rc.tmpfsRoot {
		root = tmpfsDir(t)
	}
	// The firewall4 package creates nftables.d: without it no include is written.
	if err := os.MkdirAll(filepath.Join(root, NftablesDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if rc.include {
		dir := filepath.Dir(filepath.Join(root, IncludeSymlink))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		rc.lab.FW4IncludeDir = dir
	}
	l := lab.New(t, rc.lab)
	r := &rig{t: t, l: l, root: root}
	r.conn = r.newConn()
	if rc.lan == nil {
		rc.lan = []string{lab.LANDevice}
	}
	r.b = r.backend(rc.kind, rc.lan, rc.autoIncludes)
	return r
}

func (r *rig) newConn() *nftables.Conn {
	r.t.Helper()
	c, err := nftables.New(nftables.WithNetNSFd(r.l.Router.Fd()), nftables.AsLasting())
	if err != nil {
		r.t.Fatalf("nftables conn: %v", err)
	}
	r.t.Cleanup(func() { _ = c.CloseLasting() })
	return c
}

func (r *rig) backend(kind netfilter.Kind, lan []string, autoIncludes bool) *Backend {
	r.t.Helper()
	b, err := New(Options{Kind: kind, LANDevices: lan, WAN: netfilter.OneWAN(r.l.WANDevice), Root: r.root,
		AutoIncludes: autoIncludes, NetNS: r.conn.NetNS})
	if err != nil {
		r.t.Fatalf("New: %v", err)
	}
	return b
}

// inRouter runs fn inside the router's namespace, so that the `nft -c`
// check of the include file also runs there.
func (r *rig) inRouter(fn func() error) error { return r.l.Router.Do(fn) }

func (r *rig) apply(d netfilter.Desired) []netfilter.Change {
	r.t.Helper()
	return r.applyWith(r.b, d)
}

func (r *rig) applyWith(b *Backend, d netfilter.Desired) []netfilter.Change {
	r.t.Helper()
	var ch []netfilter.Change
	if err := r.inRouter(func() (err error) { ch, err = b.Apply(d); return err }); err != nil {
		r.t.Fatalf("Apply(%v): %v", d, err)
	}
	return ch
}

func (r *rig) plan(d netfilter.Desired) []netfilter.Change {
	r.t.Helper()
	ch, err := r.b.Plan(d)
	if err != nil {
		r.t.Fatalf("Plan(%v): %v", d, err)
	}
	return ch
}

func (r *rig) cleanup(b *Backend) {
	r.t.Helper()
	if err := r.inRouter(b.Cleanup); err != nil {
		r.t.Fatalf("Cleanup: %v", err)
	}
}

// nft runs the nft binary in the router (test code may read its output).
// Without an nft binary (a busybox VM) the test is skipped, or fails
// under CI=true, as lab.RequireTools does.
func (r *rig) nft(args ...string) string {
	r.t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		if os.Getenv("CI") == "true" {
			r.t.Fatalf("nft binary needed: %v", err)
		}
		r.t.Skipf("nft binary needed: %v", err)
	}
	out, err := r.l.Nft(args...)
	if err != nil {
		r.t.Fatalf("nft %v: %v", args, err)
	}
	return string(out)
}

// listTable lists a table without counters (-s): the lab's own traffic,
// such as IPv6 router solicitations, moves them.
func (r *rig) listTable(fam, name string) string {
	r.t.Helper()
	return r.nft("-s", "list", "table", fam, name)
}

// tagged counts the rules tagged vpnpass:* per "family table chain", read
// over netlink from every chain of every table.
func (r *rig) tagged() map[string]int {
	r.t.Helper()
	s, err := readSnapshot(r.conn.NetNS)
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]int{}
	for _, t := range s.tables {
		for _, c := range s.chains[keyOf(t)] {
			rules, err := s.chainRules(t, c.Name)
			if err != nil {
				r.t.Fatal(err)
			}
			for _, rule := range rules {
				if netfilter.IsOurTag(nftwire.RuleComment(rule.UserData)) {
					out[familyName(t.Family)+" "+t.Name+" "+c.Name]++
				}
			}
		}
	}
	return out
}

func (r *rig) hasOurTable() bool {
	r.t.Helper()
	tables, err := r.l.Router.NftTables()
	if err != nil {
		r.t.Fatal(err)
	}
	for _, t := range tables {
		if t == "inet "+OurTable {
			return true
		}
	}
	return false
}

// assertNothingOfOurs checks that no table, tagged rule or include file of
// ours is left.
func (r *rig) assertNothingOfOurs() {
	r.t.Helper()
	if r.hasOurTable() {
		r.t.Errorf("table inet %s still present", OurTable)
	}
	if n := r.tagged(); len(n) > 0 {
		r.t.Errorf("tagged rules left: %v", n)
	}
	if _, err := exec.LookPath("nft"); err != nil {
		return // the netlink checks above must do
	}
	if ruleset := r.nft("list", "ruleset"); strings.Contains(ruleset, "vpnpass") {
		r.t.Errorf("nft list ruleset still mentions vpnpass:\n%s", ruleset)
	}
	if left, _ := filepath.Glob(filepath.Join(r.root, filepath.Dir(IncludeFile), "*")); len(left) > 0 {
		r.t.Errorf("files left in the include directory: %v", left)
	}
	if left, _ := filepath.Glob(filepath.Join(r.root, filepath.Dir(IncludeFile), ".*")); len(left) > 0 {
		r.t.Errorf("temp files left in the include directory: %v", left)
	}
}

func changesText(ch []netfilter.Change) string {
	var b strings.Builder
	for _, c := range ch {
		b.WriteString("  " + c.Action + " " + c.Family + " " + c.Table + " " + c.Chain + ": " + c.Rule + "\n")
	}
	return b.String()
}
