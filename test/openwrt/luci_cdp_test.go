package openwrt

import (
	"os/exec"
	"testing"

	"github.com/vpnpass/vpnpass/test/cdp"
)

// browser is the shared DevTools client with the test it belongs to.
type browser struct {
	*cdp.Browser
	t *testing.T
}

// startBrowser starts Chromium for real LuCI: it may reach only the lab
// router's LAN address and trusts its self-signed certificate; start runs
// the prepared command inside the LAN namespace.
func startBrowser(t *testing.T, lang string, start func(*exec.Cmd) error) *browser {
	t.Helper()
	o := cdp.Options{Lang: lang, Host: "192.168.1.1", TrustSelfSigned: true, Start: start}
	return &browser{cdp.Start(t, o), t}
}
