// Package ipk tests build.sh, the OpenWrt package builder behind `make ipk`:
// the packages unpack with plain tar into the tree OpenWrt expects, the
// control fields are right, and the maintainer and init scripts pass
// shellcheck.
package ipk

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/build/po2lmo/lmo"
)

const (
	version = "1.2.3-r1"
	epoch   = "1700000000"
)

// archs the test packs, with the binary build/cross.sh names for them and
// what the ELF header must say.
var archs = []struct {
	arch, binary, goarch, variant string
	machine                       elf.Machine
	order                         binary.ByteOrder
}{
	{"mips_24kc", "vpnpass-linux-mips-softfloat", "mips", "softfloat", elf.EM_MIPS, binary.BigEndian},
	{"x86_64", "vpnpass-linux-amd64", "amd64", "", elf.EM_X86_64, binary.LittleEndian},
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// crossBinaries builds the two binaries the test packs, as cross.sh does
// (static, stripped), into a fresh directory.
func crossBinaries(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	for _, a := range archs {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(dir, a.binary), "./cmd/vpnpass")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+a.goarch, "GOMIPS="+a.variant)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", a.arch, err, out)
		}
	}
	return dir
}

// buildPackages runs build.sh for the test's archs into a temp dir.
func buildPackages(t *testing.T) (string, string) {
	t.Helper()
	root := repoRoot(t)
	out := t.TempDir()
	var names []string
	for _, a := range archs {
		names = append(names, a.arch)
	}
	cmd := exec.Command("bash", "build/ipk/build.sh")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "OUT="+out, "CROSS_DIR="+crossBinaries(t, root), "VERSION="+version,
		"SOURCE_DATE_EPOCH="+epoch, "ARCHS="+strings.Join(names, " "))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, b)
	}
	return root, out
}

// unpack extracts an .ipk with the system's tar and returns the directory
// holding debian-binary, control/ and data/.
func unpack(t *testing.T, ipk string) string {
	t.Helper()
	dir := t.TempDir()
	run(t, dir, "tar", "-xzf", ipk)
	members := strings.Fields(run(t, dir, "tar", "-tzf", ipk))
	if want := []string{"./debian-binary", "./data.tar.gz", "./control.tar.gz"}; !reflect.DeepEqual(members, want) {
		t.Errorf("%s: outer members %v, want %v (ipkg-build's order)", filepath.Base(ipk), members, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "debian-binary")); string(b) != "2.0\n" {
		t.Errorf("debian-binary = %q", b)
	}
	for _, part := range []string{"data", "control"} {
		if err := os.Mkdir(filepath.Join(dir, part), 0o755); err != nil {
			t.Fatal(err)
		}
		run(t, filepath.Join(dir, part), "tar", "-xzf", "../"+part+".tar.gz")
		for _, line := range strings.Split(strings.TrimSpace(run(t, dir, "tar", "-tzvf", part+".tar.gz")), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[1] != "0/0" {
				t.Errorf("%s %s: owner %s, want 0/0: %s", filepath.Base(ipk), part, f[1], line)
			}
		}
	}
	return dir
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// tree lists the files (with modes) and symlinks (with targets) under dir.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel := "/" + strings.TrimPrefix(p, dir+"/")
		if fi.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			out[rel] = "-> " + target
			return err
		}
		out[rel] = fi.Mode().Perm().String()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// controlFields parses a control file; continuation lines join the field.
func controlFields(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := map[string]string{}
	last := ""
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if strings.HasPrefix(line, " ") && last != "" {
			f[last] += "\n" + line
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("%s: bad control line %q", path, line)
		}
		f[k], last = v, k
	}
	return f
}

func TestPackages(t *testing.T) {
	root, out := buildPackages(t)
	files, err := filepath.Glob(filepath.Join(out, "*.ipk"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	sort.Strings(names)
	want := []string{"luci-app-vpnpass_" + version + "_all.ipk", "luci-i18n-vpnpass-ja_" + version + "_all.ipk",
		"vpnpass_" + version + "_mips_24kc.ipk", "vpnpass_" + version + "_x86_64.ipk"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("dist has %v, want %v", names, want)
	}
	for _, a := range archs {
		t.Run(a.arch, func(t *testing.T) {
			checkAgentPackage(t, root, filepath.Join(out, "vpnpass_"+version+"_"+a.arch+".ipk"), a.arch, a.machine, a.order)
		})
	}
	t.Run("luci", func(t *testing.T) { checkLuCIPackage(t, root, filepath.Join(out, want[0])) })
	t.Run("i18n", func(t *testing.T) { checkI18nPackage(t, filepath.Join(out, want[1])) })
}

func checkAgentPackage(t *testing.T, root, ipk, arch string, machine elf.Machine, order binary.ByteOrder) {
	dir := unpack(t, ipk)
	got := tree(t, filepath.Join(dir, "data"))
	want := map[string]string{
		"/usr/sbin/vpnpass":                                      "-rwxr-xr-x",
		"/etc/init.d/vpnpass":                                    "-rwxr-xr-x",
		"/etc/config/vpnpass":                                    "-rw-------",
		"/usr/libexec/rpcd/vpnpass":                              "-rwxr-xr-x",
		"/lib/upgrade/keep.d/vpnpass":                            "-rw-r--r--",
		"/usr/share/nftables.d/chain-pre/forward/10-vpnpass.nft": "-> /var/run/vpnpass/fw4-forward.nft",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("data tree:\n got %v\nwant %v", got, want)
	}
	for _, f := range []string{"etc/init.d/vpnpass", "etc/config/vpnpass", "usr/libexec/rpcd/vpnpass", "lib/upgrade/keep.d/vpnpass"} {
		a, _ := os.ReadFile(filepath.Join(dir, "data", f))
		b, _ := os.ReadFile(filepath.Join(root, "openwrt/files", f))
		if !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s differs from openwrt/files/%s", f, f)
		}
	}
	e, err := elf.Open(filepath.Join(dir, "data/usr/sbin/vpnpass"))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Machine != machine || e.ByteOrder != order {
		t.Errorf("binary is %v %v, want %v %v for %s", e.Machine, e.ByteOrder, machine, order, arch)
	}
	c := controlFields(t, filepath.Join(dir, "control/control"))
	fields := map[string]string{
		"Package": "vpnpass", "Version": version, "Architecture": arch, "Section": "net",
		// conntrack netlink is not in default images; no firewall package
		// (fw4 routers must not get iptables).
		"Depends":  "libc, kmod-nf-conntrack-netlink",
		"Suggests": "kmod-nf-nathelper-extra", "Recommends": "", "SourceDateEpoch": epoch,
	}
	for k, v := range fields {
		if c[k] != v {
			t.Errorf("control %s = %q, want %q", k, c[k], v)
		}
	}
	for _, k := range []string{"Maintainer", "Description", "Installed-Size", "Source"} {
		if c[k] == "" || c[k] == "0" {
			t.Errorf("control %s is empty", k)
		}
	}
	for _, helper := range []string{"sip", "h323", "auto_helper"} {
		if !strings.Contains(c["Description"], helper) {
			t.Errorf("description does not say that the PPTP helper package also loads %s", helper)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "control/conffiles")); string(b) != "/etc/config/vpnpass\n" {
		t.Errorf("conffiles = %q", b)
	}
	checkScripts(t, dir, "postinst", "prerm", "postinst-pkg", "prerm-pkg", "postrm")
	checkDefaultScripts(t, dir)
	// The same maintainer scripts as the feed Makefile's.
	for _, n := range []string{"postinst", "prerm"} {
		got, _ := os.ReadFile(filepath.Join(dir, "control", n+"-pkg"))
		if want := makefileDefine(t, root, "Package/vpnpass/"+n); string(got) != want {
			t.Errorf("%s-pkg differs from openwrt/Makefile's Package/vpnpass/%s:\n%s\n---\n%s", n, n, got, want)
		}
	}
}

// checkDefaultScripts: postinst and prerm are what OpenWrt's package-pack.mk
// writes: default_postinst / default_prerm, which enable only on a fresh
// install and source our -pkg scripts.
func checkDefaultScripts(t *testing.T, dir string) {
	t.Helper()
	for n, call := range map[string]string{"postinst": "default_postinst \"$0\" \"$@\"", "prerm": "default_prerm \"$0\" \"$@\""} {
		b, _ := os.ReadFile(filepath.Join(dir, "control", n))
		if !bytes.Contains(b, []byte(". \"${IPKG_INSTROOT}/lib/functions.sh\"")) || !bytes.Contains(b, []byte(call)) {
			t.Errorf("%s does not run OpenWrt's %s:\n%s", n, call, b)
		}
	}
	post, _ := os.ReadFile(filepath.Join(dir, "control/postinst-pkg"))
	pre, _ := os.ReadFile(filepath.Join(dir, "control/prerm-pkg"))
	for _, bad := range []string{" enable", "vpnpass start"} {
		if bytes.Contains(post, []byte(bad)) {
			t.Errorf("postinst-pkg runs %q: default_postinst does it, and only on a fresh install", bad)
		}
	}
	if !bytes.Contains(post, []byte("PKG_UPGRADE")) || !bytes.Contains(post, []byte("vpnpass restart")) {
		t.Errorf("postinst-pkg does not restart an upgraded agent:\n%s", post)
	}
	stop, clean := bytes.Index(pre, []byte("/etc/init.d/vpnpass stop")), bytes.Index(pre, []byte("/usr/sbin/vpnpass cleanup"))
	if stop < 0 || clean < stop || !bytes.Contains(pre, []byte("PKG_UPGRADE")) {
		t.Errorf("prerm-pkg must stop the agent before cleanup and leave an upgrade alone:\n%s", pre)
	}
}

// makefileDefine returns a `define NAME ... endef` block of openwrt/Makefile
// as the shell sees it ($$ is make's $).
func makefileDefine(t *testing.T, root, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "openwrt/Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "define "+name+"\n")
	body, _, ok2 := strings.Cut(rest, "\nendef")
	if !ok || !ok2 {
		t.Fatalf("openwrt/Makefile has no define %s", name)
	}
	return strings.ReplaceAll(body, "$$", "$") + "\n"
}

// checkScripts: the maintainer scripts are executable and shellcheck-clean.
func checkScripts(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		p := filepath.Join(dir, "control", n)
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("no %s: %v", n, err)
			continue
		}
		if fi.Mode().Perm() != 0o755 {
			t.Errorf("%s mode %v", n, fi.Mode())
		}
		shellcheck(t, p)
	}
}

func checkLuCIPackage(t *testing.T, root, ipk string) {
	dir := unpack(t, ipk)
	got := tree(t, filepath.Join(dir, "data"))
	want := map[string]string{
		"/www/luci-static/resources/view/vpnpass/overview.js":          "-rw-r--r--",
		"/www/luci-static/resources/view/vpnpass/hosts.js":             "-rw-r--r--",
		"/www/luci-static/resources/view/vpnpass/tools.js":             "-rw-r--r--",
		"/www/luci-static/resources/view/vpnpass/history.js":           "-rw-r--r--",
		"/www/luci-static/resources/view/status/include/70_vpnpass.js": "-rw-r--r--",
		"/www/luci-static/resources/vpnpass/catalog.js":                "-rw-r--r--",
		"/www/luci-static/resources/vpnpass/common.js":                 "-rw-r--r--",
		"/usr/share/luci/menu.d/luci-app-vpnpass.json":                 "-rw-r--r--",
		"/usr/share/rpcd/acl.d/luci-app-vpnpass.json":                  "-rw-r--r--",
		"/usr/share/ucitrack/luci-app-vpnpass.json":                    "-rw-r--r--",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("data tree:\n got %v\nwant %v", got, want)
	}
	c := controlFields(t, filepath.Join(dir, "control/control"))
	if c["Package"] != "luci-app-vpnpass" || c["Architecture"] != "all" || c["Depends"] != "libc, luci-base, vpnpass" {
		t.Errorf("control: %v", c)
	}
	checkScripts(t, dir, "postinst", "postrm")
	checkACL(t, filepath.Join(dir, "data/usr/share/rpcd/acl.d/luci-app-vpnpass.json"))
	var menu map[string]struct {
		Action struct{ Type, Path string }
	}
	b, _ := os.ReadFile(filepath.Join(dir, "data/usr/share/luci/menu.d/luci-app-vpnpass.json"))
	if err := json.Unmarshal(b, &menu); err != nil {
		t.Fatal(err)
	}
	for node, m := range menu {
		if m.Action.Type == "alias" { // the tabs' parent: an alias of one of them
			if menu[m.Action.Path].Action.Type != "view" {
				t.Errorf("menu %s is an alias of %q, which is no view of the package", node, m.Action.Path)
			}
			continue
		}
		js := filepath.Join(dir, "data/www/luci-static/resources/view", m.Action.Path+".js")
		if _, err := os.Stat(js); m.Action.Type != "view" || err != nil {
			t.Errorf("menu %s points at %+v, which the package does not ship", node, m.Action)
		}
	}
}

// checkACL: read and write stay apart, as docs/interface.md#rpcd-plugin-and-ubus says;
// probe sends packets, so it is a write; the page reads the firewall's rule names.
func checkACL(t *testing.T, path string) {
	t.Helper()
	var acl map[string]struct {
		Read, Write struct {
			Ubus map[string][]string
			UCI  []string `json:"uci"`
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &acl); err != nil {
		t.Fatal(err)
	}
	a := acl["luci-app-vpnpass"]
	if got := a.Read.Ubus["vpnpass"]; !reflect.DeepEqual(got, []string{"status", "explain", "doctor", "nat", "history", "metrics"}) {
		t.Errorf("read methods %v", got)
	}
	if got := a.Write.Ubus["vpnpass"]; !reflect.DeepEqual(got, []string{"set", "reload", "probe"}) {
		t.Errorf("write methods %v", got)
	}
	if !reflect.DeepEqual(a.Read.UCI, []string{"vpnpass", "firewall"}) || !reflect.DeepEqual(a.Write.UCI, []string{"vpnpass"}) {
		t.Errorf("uci grants read %v write %v", a.Read.UCI, a.Write.UCI)
	}
}

func checkI18nPackage(t *testing.T, ipk string) {
	dir := unpack(t, ipk)
	got := tree(t, filepath.Join(dir, "data"))
	if want := map[string]string{"/usr/lib/lua/luci/i18n/vpnpass.ja.lmo": "-rw-r--r--",
		"/etc/uci-defaults/luci-i18n-vpnpass-ja": "-rw-r--r--"}; !reflect.DeepEqual(got, want) {
		t.Errorf("data tree %v, want %v", got, want)
	}
	// As luci.mk's translation packages: LuCI offers the language.
	if b, _ := os.ReadFile(filepath.Join(dir, "data/etc/uci-defaults/luci-i18n-vpnpass-ja")); string(b) !=
		"uci set luci.languages.ja='日本語 (Japanese)'; uci commit luci\n" {
		t.Errorf("uci-defaults = %q", b)
	}
	checkScripts(t, dir, "postinst")
	if b, _ := os.ReadFile(filepath.Join(dir, "control/postinst")); !bytes.Contains(b, []byte(". /etc/uci-defaults/luci-i18n-vpnpass-ja")) {
		t.Errorf("postinst does not apply the uci-defaults on a live router:\n%s", b)
	}
	c := controlFields(t, filepath.Join(dir, "control/control"))
	if c["Package"] != "luci-i18n-vpnpass-ja" || c["Architecture"] != "all" || c["Depends"] != "libc, luci-app-vpnpass" {
		t.Errorf("control: %v", c)
	}
	b, err := os.ReadFile(filepath.Join(dir, "data/usr/lib/lua/luci/i18n/vpnpass.ja.lmo"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := lmo.ReadLMO(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := lmo.Lookup(tr, "VPN Passthrough", ""); got != "VPN パススルー" {
		t.Errorf("catalog says %q for the menu title", got)
	}
}

func shellcheck(t *testing.T, paths ...string) {
	t.Helper()
	if _, err := exec.LookPath("shellcheck"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("shellcheck missing (apt: shellcheck)")
		}
		t.Skip("shellcheck missing (apt: shellcheck)")
	}
	if out, err := exec.Command("shellcheck", append([]string{"-s", "sh"}, paths...)...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck %v:\n%s", paths, out)
	}
}

// TestShellcheck covers the scripts the router runs and build.sh itself.
func TestShellcheck(t *testing.T) {
	root := repoRoot(t)
	shellcheck(t, filepath.Join(root, "openwrt/files/etc/init.d/vpnpass"),
		filepath.Join(root, "openwrt/files/usr/libexec/rpcd/vpnpass"),
		filepath.Join(root, "openwrt/examples/vpnpass-remote.sh"))
	scripts, _ := filepath.Glob(filepath.Join(root, "build/ipk/*.post*"))
	scripts = append(scripts, filepath.Join(root, "build/ipk/vpnpass.prerm-pkg"))
	shellcheck(t, scripts...)
	if out, err := exec.Command("shellcheck", filepath.Join(root, "build/ipk/build.sh")).CombinedOutput(); err != nil {
		t.Errorf("shellcheck build.sh:\n%s", out)
	}
}

// TestArchTable: build.sh packs the binary each OpenWrt arch can run. Go's
// GOARM=7 uses VFP instructions, so FPU-less ARM targets get GOARM=5.
func TestArchTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "build/ipk/build.sh"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"mips_24kc": "mips-softfloat", "mipsel_24kc": "mipsle-softfloat", "mipsel_74kc": "mipsle-softfloat",
		"arm_arm926ej-s": "armv5", "arm_xscale": "armv5", "arm_cortex-a9": "armv5",
		"arm_cortex-a9_vfpv3-d16": "armv7", "arm_cortex-a7_neon-vfpv4": "armv7", "arm_cortex-a15_neon-vfpv4": "armv7",
		"aarch64_generic": "arm64", "aarch64_cortex-a53": "arm64", "aarch64_cortex-a72": "arm64", "x86_64": "amd64",
	}
	got := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, "]=vpnpass-linux-"); ok && strings.HasPrefix(k, "[") {
			got[k[1:]] = v
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("arch table\n got %v\nwant %v", got, want)
	}
}

// TestFeedMakefile checks openwrt/Makefile against OpenWrt's packaging rules
// (no SDK here: a real SDK build is the final proof).
func TestFeedMakefile(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "openwrt/Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	mk := string(b)
	for _, want := range []string{
		"PKG_LICENSE:=Apache-2.0", "PKG_LICENSE_FILES:=LICENSE",
		"+kmod-nf-conntrack-netlink",
		// golang-package.mk hard-codes CGO_ENABLED=1 and -linkmode external.
		"GO_PKG_TARGET_VARS:=$(filter-out CGO_ENABLED=%,$(GO_PKG_TARGET_VARS)) CGO_ENABLED=0",
		"-linkmode internal",
		"/lib/upgrade/keep.d/vpnpass",
	} {
		if !strings.Contains(mk, want) {
			t.Errorf("openwrt/Makefile lacks %q", want)
		}
	}
	for _, bad := range []string{"PKG_HASH:=skip", "PACKAGE_firewall", "+iptables", "Recommends"} {
		if strings.Contains(mk, bad) {
			t.Errorf("openwrt/Makefile has %q", bad)
		}
	}
	if i, j := strings.Index(mk, "include ../../lang/golang/golang-package.mk"), strings.Index(mk, "CGO_ENABLED=0"); i < 0 || j < i {
		t.Error("the CGO override must come after golang-package.mk (which sets the variable)")
	}
	lic, err := os.ReadFile(filepath.Join(root, "LICENSE"))
	if err != nil || !bytes.Contains(lic, []byte("Apache License")) || !bytes.Contains(lic, []byte("Version 2.0, January 2004")) {
		t.Errorf("LICENSE is not the Apache-2.0 text (%v)", err)
	}
	keep, _ := os.ReadFile(filepath.Join(root, "openwrt/files/lib/upgrade/keep.d/vpnpass"))
	cfg, _ := os.ReadFile(filepath.Join(root, "openwrt/files/etc/config/vpnpass"))
	for _, path := range strings.Fields(string(keep)) {
		if !bytes.Contains(cfg, []byte("option history_persist_path '"+path+"'")) {
			t.Errorf("keep.d keeps %s, which the shipped config does not save the history to", path)
		}
	}
}

// TestMenuOrder: our LuCI entry must not share Firewall's order (60) under
// Network, or the two swap places at random.
func TestMenuOrder(t *testing.T) {
	var menu map[string]struct{ Order int }
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "openwrt/luci-app-vpnpass/root/usr/share/luci/menu.d/luci-app-vpnpass.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &menu); err != nil {
		t.Fatal(err)
	}
	// luci-app-firewall's admin/network/firewall order.
	const firewallOrder = 60
	if o := menu["admin/network/vpnpass"].Order; o == firewallOrder || o == 0 {
		t.Errorf("menu order %d collides with Firewall (%d) or is unset", o, firewallOrder)
	}
}
