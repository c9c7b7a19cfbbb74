package luci

import (
	"os/exec"
	"testing"

	"github.com/vpnpass/vpnpass/test/cdp"
)

// browser is the shared DevTools client with the test it belongs to (open
// is a method here).
type browser struct {
	*cdp.Browser
	t *testing.T
}

// startBrowser starts Chromium for the stand-in page on 127.0.0.1; start
// runs the prepared command (so a lab test can start it inside a namespace).
func startBrowser(t *testing.T, lang string, start func(*exec.Cmd) error) *browser {
	t.Helper()
	return &browser{cdp.Start(t, cdp.Options{Lang: lang, Start: start}), t}
}
