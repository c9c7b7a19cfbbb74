package openwrt

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/vpnpass/vpnpass/build/po2lmo/lmo"
	"github.com/vpnpass/vpnpass/test/lab"
)

// The LuCI tests run our view on LuCI's real JavaScript runtime (luci.js,
// rpc.js, ui.js, form.js, uci.js, validation.js, cbi.js, menu-bootstrap.js,
// minified as OpenWrt 25.12.0-rc5 ships them; /var/cache/vpnpass-openwrt/
// COMMITS names the build and blobs) in headless Chromium, against real
// uhttpd (/ubus over HTTPS), rpcd (session, uci apply with rollback, ACLs)
// and the agent. Ours are only: the dispatcher's page bootstrap and URLs
// (testdata/luci/luci.uc, view.ut, login.ut: ucode run by uhttpd as CGI,
// running LuCI's real controller luci.controller.admin.uci for apply and
// confirm), procd's "service" object (procd.uc: config.change -> SIGHUP, as
// our init script's reload trigger asks), and luci-base's rpcd "luci"
// plugin's getFeatures (rpcd-luci; this rpcd has no ucode plugins).

// luciEnv names LuCI as a router ships it: www/luci-static (luci-base's
// JavaScript runtime and the bootstrap theme), usr/share/ucode/luci (the
// dispatcher's templates and controllers), usr/share/luci/menu.d and
// usr/share/rpcd/acl.d/luci-base.json. Default: luci-rootfs next to the
// OpenWrt root (docs/openwrt-testing.md says where it comes from).
const luciEnv = "VPNPASS_LUCI_ROOT"

// luciRequired are the LuCI files the page needs, relative to the LuCI root.
var luciRequired = []string{
	"www/luci-static/resources/luci.js", "www/luci-static/resources/rpc.js", "www/luci-static/resources/ui.js",
	"www/luci-static/resources/form.js", "www/luci-static/resources/uci.js", "www/luci-static/resources/validation.js",
	"www/luci-static/resources/cbi.js", "www/luci-static/resources/menu-bootstrap.js", "www/luci-static/bootstrap/cascade.css",
	"usr/share/ucode/luci/controller/admin/uci.uc", "usr/share/luci/menu.d/luci-base.json",
	"usr/share/rpcd/acl.d/luci-base.json",
}

// The logins of the LuCI tests: admin as OpenWrt's root login (every ACL
// group), viewer with the read half of LuCI's base and of our app. A
// logged-in session gets rpcd's "unauthenticated" group only when its login
// lists it, and LuCI needs it (session access, luci getFeatures): without
// it luci.js reports "Login session is expired" at the first denial.
const (
	adminPassword  = "admin-secret"
	viewerPassword = "viewer-secret"
	luciLogins     = `
config login
	option username 'admin'
	option password '%[1]s'
	list read '*'
	list write '*'

config login
	option username 'viewer'
	option password '%[2]s'
	list read 'unauthenticated'
	list read 'luci-base'
	list read 'luci-app-vpnpass'
`
)

func luciRoot(t *testing.T, root string) string {
	t.Helper()
	dir := os.Getenv(luciEnv)
	if dir == "" {
		dir = filepath.Join(filepath.Dir(root), "luci-rootfs")
	}
	for _, p := range luciRequired {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Fatalf("%s=%s lacks LuCI as a router ships it: %v (docs/openwrt-testing.md)", luciEnv, dir, err)
		}
	}
	return dir
}

// luciOpts vary the router of a LuCI test.
type luciOpts struct {
	noPlugin bool // rpcd starts without /usr/libexec/rpcd/vpnpass
	noAgent  bool
}

// luciWrt is a lab whose router runs the real userland and serves LuCI:
// uhttpd on 443 with the real /ubus and our dispatcher stand-in at
// /cgi-bin/luci (testdata/luci/luci.uc), procd's "service" object
// stand-in, rpcd with the admin and viewer logins, and the agent.
func luciWrt(t *testing.T, o luciOpts) (*lab.Lab, *Router, *Web) {
	t.Helper()
	root, _ := Userland(t)
	lroot := luciRoot(t, root)
	// fw4 locked down: IKE passes only when vpnpass allows it
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FW4Locked}})
	rpcdConf := "config rpcd\n\toption socket /var/run/ubus/ubus.sock\n\toption timeout 30\n" +
		fmt.Sprintf(luciLogins, passwordHash(t, root, adminPassword), passwordHash(t, root, viewerPassword))
	repo := RepoRoot(t)
	files := map[string]string{"etc/config/rpcd": rpcdConf}
	for dst, src := range map[string]string{
		"etc/config/vpnpass":                          filepath.Join(repo, "openwrt/files/etc/config/vpnpass"),
		"etc/config/luci":                             filepath.Join(repo, "test/openwrt/testdata/luci/luci.config"),
		"usr/libexec/rpcd/luci":                       filepath.Join(repo, "test/openwrt/testdata/luci/rpcd-luci"),
		"usr/share/rpcd/acl.d/luci-base.json":         filepath.Join(lroot, "usr/share/rpcd/acl.d/luci-base.json"),
		"usr/share/luci/menu.d/luci-base.json":        filepath.Join(lroot, "usr/share/luci/menu.d/luci-base.json"),
		"usr/share/luci/menu.d/luci-app-vpnpass.json": filepath.Join(repo, "openwrt/luci-app-vpnpass/root/usr/share/luci/menu.d/luci-app-vpnpass.json"),
	} {
		b, err := os.ReadFile(src)
		must(t, err)
		files[dst] = string(b)
	}
	r := NewRouter(t, l, files)
	r.luciFiles(lroot)
	if o.noPlugin {
		if _, err := r.Run("", "rm", "/usr/libexec/rpcd/vpnpass"); err != nil {
			t.Fatal(err)
		}
	}
	r.StartUbus()
	r.Daemon("ucode", "/tmp/luci/procd.uc")
	if !o.noAgent {
		r.StartAgent()
		r.writeAgentPid()
	}
	w := r.StartUhttpd()
	r.luciWWW(lroot)
	return l, r, w
}

// luciWWW fills the router's /tmp/www (uhttpd's docroot) with LuCI's
// static files, our view and the CGI running the dispatcher stand-in.
func (r *Router) luciWWW(lroot string) {
	r.t.Helper()
	www := filepath.Join(r.work, "tmp", "www")
	// StartUhttpd staged the root's www: this test serves one LuCI, whole
	must(r.t, os.RemoveAll(filepath.Join(www, "luci-static")))
	copyTree(r.t, filepath.Join(lroot, "www/luci-static"), www)
	copyTree(r.t, filepath.Join(RepoRoot(r.t), "openwrt/luci-app-vpnpass/htdocs/luci-static"), www)
	// uhttpd clears the environment of a CGI: the wrapper names the libraries.
	cgi := fmt.Sprintf("#!/bin/sh\nLD_LIBRARY_PATH=%s exec /usr/bin/ucode -L '/tmp/luci/ucode/*.uc' /tmp/luci/luci.uc\n",
		filepath.Join(r.root, "usr/lib"))
	writeFile(r.t, www, "cgi-bin/luci", cgi, 0o755)
}

// luciFiles fills the router's /tmp/luci with the dispatcher and procd
// stand-ins, LuCI's controllers and the compiled translations.
func (r *Router) luciFiles(lroot string) {
	r.t.Helper()
	repo := RepoRoot(r.t)
	luci := filepath.Join(r.work, "tmp", "luci")
	must(r.t, os.MkdirAll(filepath.Join(luci, "ucode"), 0o755))
	copyTree(r.t, filepath.Join(lroot, "usr/share/ucode/luci"), filepath.Join(luci, "ucode"))
	for _, f := range []string{"luci.uc", "view.ut", "login.ut", "procd.uc"} {
		b, err := os.ReadFile(filepath.Join(repo, "test/openwrt/testdata/luci", f))
		must(r.t, err)
		writeFile(r.t, luci, f, string(b), 0o644)
	}
	for _, lang := range []string{"ja"} {
		writeFile(r.t, luci, "i18n/"+lang+".js", translations(r.t, lang), 0o644)
	}
}

func copyTree(t *testing.T, src, dstDir string) {
	if out, err := exec.Command("cp", "-a", src, dstDir).CombinedOutput(); err != nil {
		t.Fatalf("cp %s: %v %s", src, err, out)
	}
}

// translations is what LuCI's action_translations serves for lang: our
// catalog as window.TR, keyed by the sfh hash of the message.
func translations(t *testing.T, lang string) string {
	t.Helper()
	f, err := os.Open(filepath.Join(RepoRoot(t), "openwrt/luci-app-vpnpass/po", lang, "vpnpass.po"))
	must(t, err)
	defer f.Close()
	entries, plural, err := lmo.ParsePO(f)
	must(t, err)
	b, err := lmo.WriteLMO(entries, plural)
	must(t, err)
	tr, err := lmo.ReadLMO(b)
	must(t, err)
	js, err := json.Marshal(tr)
	must(t, err)
	return "window.TR=" + string(js) + ";\n"
}

// writeAgentPid tells the procd stand-in which process to send SIGHUP.
func (r *Router) writeAgentPid() {
	writeFile(r.t, r.work, "tmp/vpnpass-agent.pid", strconv.Itoa(r.agent.Process.Pid)+"\n", 0o644)
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", r.agent.Process.Pid))
	if err != nil || exe != "/usr/sbin/vpnpass" {
		r.t.Fatalf("agent pid %d runs %q (%v), want the router's /usr/sbin/vpnpass", r.agent.Process.Pid, exe, err)
	}
}
