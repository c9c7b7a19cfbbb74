// Command i18n regenerates the LuCI view's protocol names, match texts and
// finding texts from vpn/ and diagnose/catalog.go, and then the translation
// template (.pot) from the view and the menu: `make i18n`.
package main

import (
	"fmt"
	"os"

	"github.com/vpnpass/vpnpass/build/po2lmo/lmo"
)

// Paths relative to the repository root (make runs from there).
const (
	view = "openwrt/luci-app-vpnpass/htdocs/luci-static/resources/view/vpnpass/overview.js"
	menu = "openwrt/luci-app-vpnpass/root/usr/share/luci/menu.d/luci-app-vpnpass.json"
	pot  = "openwrt/luci-app-vpnpass/po/templates/vpnpass.pot"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "i18n:", err)
		os.Exit(1)
	}
}

// run regenerates the view, then the .pot from the view and the menu. It
// runs in the repository root: the .pot's references are relative paths.
func run() error {
	old, err := os.ReadFile(view)
	if err != nil {
		return err
	}
	v, err := generate(old)
	if err != nil {
		return err
	}
	if err := os.WriteFile(view, v, 0o644); err != nil {
		return err
	}
	p, err := potText()
	if err != nil {
		return err
	}
	return os.WriteFile(pot, []byte(p), 0o644)
}

// potText is the translation template of the view and the menu on disk.
func potText() (string, error) {
	srcs, err := lmo.Scan([]string{view, menu})
	if err != nil {
		return "", err
	}
	return lmo.WritePOT(srcs), nil
}
