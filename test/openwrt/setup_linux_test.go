package openwrt

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpnpass/vpnpass/test/lab"
)

// ispPassword is the ISP login's password (README "Remote toggling").
const ispPassword = "the-secret"

// placeholder is the hash line openwrt/examples/rpcd-login.conf asks to replace.
const placeholder = `$1$REPLACE$WithTheOutputOfUhttpdM`

// echoPlugin is an rpcd exec plugin that answers each call with the
// arguments it received: it shows what uhttpd hands to a plugin.
const echoPlugin = `#!/bin/sh
case "$1" in
list) echo '{"args":{"protocol":"str","limit":32}}' ;;
call) printf '{"received":'; cat; printf '}\n' ;;
esac
`

// claimsACL grants the echo object and the LuCI app's methods to the
// "luci" login (the stand-in in test/luci serves that session).
const claimsACL = `{
	"owrt-claims": {
		"description": "test/openwrt: the echo plugin",
		"read": { "ubus": { "echo": [ "args" ] } }
	}
}
`

// luciLogin is a login holding the LuCI app's ACL group, as an admin's
// session would for this app.
const luciLogin = `
config login
	option username 'luci'
	option password '%s'
	list read 'luci-app-vpnpass'
	list write 'luci-app-vpnpass'
	list read 'owrt-claims'
`

// openWrt is a lab with fw4's default ruleset and the userland running in
// its router: ubusd, rpcd with our plugin, ACLs and the ISP login, and the
// agent with the config the package ships.
func openWrt(t *testing.T) (*lab.Lab, *Router) {
	t.Helper()
	root, _ := Userland(t)
	l := lab.New(t, lab.Config{Topology: lab.Single, Firewalls: []lab.Firewall{lab.FW4}})
	hash := passwordHash(t, root, ispPassword)
	login, err := os.ReadFile(filepath.Join(RepoRoot(t), "openwrt/examples/rpcd-login.conf"))
	must(t, err)
	if !strings.Contains(string(login), placeholder) {
		t.Fatalf("openwrt/examples/rpcd-login.conf lost the line to replace (%s)", placeholder)
	}
	rpcdConf := "config rpcd\n\toption socket /var/run/ubus/ubus.sock\n\toption timeout 30\n\n" +
		strings.Replace(string(login), placeholder, hash, 1) +
		strings.Replace(luciLogin, "%s", hash, 1)
	shipped, err := os.ReadFile(filepath.Join(RepoRoot(t), "openwrt/files/etc/config/vpnpass"))
	must(t, err)
	r := NewRouter(t, l, map[string]string{
		"etc/config/rpcd":                       rpcdConf,
		"etc/config/vpnpass":                    string(shipped),
		"usr/libexec/rpcd/echo":                 echoPlugin,
		"usr/share/rpcd/acl.d/owrt-claims.json": claimsACL,
	})
	r.StartUbus()
	r.StartAgent()
	return l, r
}

// passwordHash makes a crypt hash as README says: `uhttpd -m PASSWORD`.
func passwordHash(t *testing.T, root, password string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(root, "usr/sbin/uhttpd"), "-m", password)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+filepath.Join(root, "usr/lib"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("uhttpd -m: %v", err)
	}
	return strings.TrimSpace(string(out))
}
