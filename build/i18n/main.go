// Command i18n regenerates the LuCI app's catalog module (protocol names,
// match texts, finding texts, probe outcomes) from vpn/ and
// diagnose/catalog.go, and then the translation template (.pot) from every
// script of the app and the menu: `make i18n`.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/vpnpass/vpnpass/build/po2lmo/lmo"
)

// Paths relative to the repository root (make runs from there).
const (
	view = "openwrt/luci-app-vpnpass/htdocs/luci-static/resources/vpnpass/catalog.js"
	// htdocs holds the app's scripts (views, status include, modules).
	htdocs = "openwrt/luci-app-vpnpass/htdocs"
	menu   = "openwrt/luci-app-vpnpass/root/usr/share/luci/menu.d/luci-app-vpnpass.json"
	pot    = "openwrt/luci-app-vpnpass/po/templates/vpnpass.pot"
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

// potText is the translation template of the app's scripts and the menu on
// disk, in a stable order.
func potText() (string, error) {
	files, err := scripts(htdocs)
	if err != nil {
		return "", err
	}
	srcs, err := lmo.Scan(append(files, menu))
	if err != nil {
		return "", err
	}
	return lmo.WritePOT(srcs), nil
}

// scripts lists the .js files under dir, sorted (os.ReadDir sorts by name).
func scripts(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		p := dir + "/" + e.Name()
		if e.IsDir() {
			sub, err := scripts(p)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		} else if strings.HasSuffix(e.Name(), ".js") {
			out = append(out, p)
		}
	}
	return out, nil
}
