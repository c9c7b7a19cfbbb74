package ipt

import (
	"github.com/vpnpass/vpnpass/vpn"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/netfilter"
	"github.com/vpnpass/vpnpass/test/lab"
)

// Helpers shared by the kernel tests: everything runs in the lab's router
// namespace, on a thread that joined it (iptables child processes
// inherit that thread's namespace).

// dropFirewall is the lab's closed FORWARD of a variant.
func dropFirewall(variant string) lab.Firewall {
	if variant == VariantNft {
		return lab.IptablesNftDrop
	}
	return lab.IptablesLegacyDrop
}

func inRouter[T any](t *testing.T, l *lab.Lab, fn func() (T, error)) T {
	t.Helper()
	var out T
	if err := l.Router.Do(func() (err error) { out, err = fn(); return err }); err != nil {
		t.Fatal(err)
	}
	return out
}

func routerDo(l *lab.Lab, fn func() error) error { return l.Router.Do(fn) }

// requireVariant skips (fails under CI=true, as the lab does) when the
// variant's iptables binaries are missing, e.g. in a busybox VM.
func requireVariant(t testing.TB, v string) {
	t.Helper()
	for _, f := range []vpn.Family{vpn.IPv4, vpn.IPv6} {
		if _, err := binaryPath(v, f); err != nil {
			skipOrFail(t, err)
		}
	}
}

func skipOrFail(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(err)
	}
	t.Skip(err)
}

func newBackend(t *testing.T, l *lab.Lab, o Options) *Backend {
	t.Helper()
	requireVariant(t, o.Variant)
	if len(o.LANDevices) == 0 {
		o.LANDevices = []string{lab.LANDevice}
	}
	if o.WAN.Empty() {
		o.WAN = netfilter.OneWAN(l.WANDevice)
	}
	return inRouter(t, l, func() (*Backend, error) { return New(o) })
}

func apply(t *testing.T, l *lab.Lab, b *Backend, d netfilter.Desired) []netfilter.Change {
	t.Helper()
	return inRouter(t, l, func() ([]netfilter.Change, error) { return b.Apply(d) })
}

func plan(t *testing.T, l *lab.Lab, b *Backend, d netfilter.Desired) []netfilter.Change {
	t.Helper()
	return inRouter(t, l, func() ([]netfilter.Change, error) { return b.Plan(d) })
}

var (
	saveCounters = regexp.MustCompile(`\[\d+:\d+\]`)
	// A table section with only ACCEPT policies and no rule: what a legacy
	// table we once listed, or an nft table we once used, leaves behind.
	emptySection = regexp.MustCompile(`(?m)^\*\w+\n(?::\w+ ACCEPT\n)*COMMIT\n`)
)

// save returns iptables-save and ip6tables-save of a variant in the router,
// without comments and counters, and without empty all-accept tables.
func save(t *testing.T, l *lab.Lab, variant string) string {
	t.Helper()
	var b strings.Builder
	for _, bin := range []string{"iptables-" + variant + "-save", "ip6tables-" + variant + "-save"} {
		out, err := l.Router.Run(bin)
		if err != nil {
			t.Fatalf("%s: %v", bin, err)
		}
		b.WriteString("## " + bin + "\n")
		for _, line := range strings.Split(string(out), "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			b.WriteString(saveCounters.ReplaceAllString(line, "") + "\n")
		}
	}
	return emptySection.ReplaceAllString(strings.ReplaceAll(b.String(), " \n", "\n"), "")
}

// firstRule returns the first "-A chain" line of chain in a save dump's
// section for bin.
func rulesOf(dump, bin, chain string) []string {
	_, sect, _ := strings.Cut(dump, "## "+bin+"\n")
	sect, _, _ = strings.Cut(sect, "## ")
	var out []string
	for _, line := range strings.Split(sect, "\n") {
		if strings.HasPrefix(line, "-A "+chain+" ") {
			out = append(out, line)
		}
	}
	return out
}

func sameDump(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: ruleset differs\n--- got\n%s--- want\n%s", what, got, want)
	}
}
